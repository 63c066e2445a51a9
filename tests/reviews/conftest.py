"""Fixtures of the review tests: applications in the union tree of tests/conftest.py."""

import pytest

from tests.factories import ApplicationFactory, MemberFactory


@pytest.fixture
def make_app(campaign):
    """An application of a new member of `union` in `status` (default pending_grassroots)."""

    def make(union, status="pending_grassroots", **kwargs):
        member = kwargs.pop("member", None) or MemberFactory(union=union)
        return ApplicationFactory(campaign=campaign, member=member, status=status, **kwargs)

    return make


@pytest.fixture
def app_a1(make_app, tree):
    return make_app(
        tree.a1,
        registry_record={"institution": "广东开放大学", "major": "机械设计制造及其自动化"},
        bank_card_photo=_stored_photo(),
    )


def _stored_photo() -> str:
    """A real re-encoded card photo in private storage, so the photo route can answer 200."""
    import io

    from PIL import Image

    from subsidy.services import uploads

    buf = io.BytesIO()
    Image.new("RGB", (64, 40), (200, 30, 30)).save(buf, "JPEG")
    return uploads.store(buf.getvalue())
