"""SPEC §5 and notice attachments 2 and 3: grassroots reviewers never see applications waiting
for or failed at the registry check; district / industry and city reviewers see those of their
scope, read-only; the applicant sees the reason and may submit again."""

import pytest

from subsidy.models import Application, ApplicationStatus
from tests.factories import ApplicationFactory, MemberFactory
from tests.registry.conftest import add_record

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "who, sees_registry_rows",
    [
        ("grassroots_a", False),
        ("district_yuexiu", True),
        ("city", True),
    ],
)
def test_only_district_and_city_see_chsi_failed_and_pending_chsi(
    reviewers, campaign, tree, who, sees_registry_rows
):
    def make(status):
        return ApplicationFactory(
            campaign=campaign, member=MemberFactory(union=tree.a1), status=status
        )

    failed, pending, passed = make("chsi_failed"), make("pending_chsi"), make("pending_grassroots")
    user = getattr(reviewers, who).user
    visible = set(Application.objects.visible_to(user).values_list("pk", flat=True))
    assert passed.pk in visible
    assert (failed.pk in visible) == sees_registry_rows
    assert (pending.pk in visible) == sees_registry_rows


def test_registry_rows_outside_the_subtree_stay_invisible(reviewers, campaign, tree):
    failed = ApplicationFactory(
        campaign=campaign, member=MemberFactory(union=tree.b1), status="chsi_failed"
    )
    for who in ("district_yuexiu", "industry", "grassroots_b"):
        user = getattr(reviewers, who).user
        assert not Application.objects.visible_to(user).filter(pk=failed.pk).exists()
    assert Application.objects.visible_to(reviewers.district_haizhu.user).filter(pk=failed.pk)


def test_applicant_sees_the_reason_and_may_submit_again(sim, pending_app):
    from registry.tasks import check_registry

    app = pending_app(number="2024440100077")
    add_record(sim, app, name="别人")
    check_registry.apply(args=[app.pk])
    mine = Application.objects.of_user(app.member.user).get(pk=app.pk)
    assert mine.status == ApplicationStatus.CHSI_FAILED
    assert mine.registry_reason.startswith("学信网登记的姓名与申领人姓名不一致")
    assert mine.is_retryable
    # R6 allows a new attempt beside the failed one
    again = ApplicationFactory(
        campaign=app.campaign, member=app.member, attempt=2, status="pending_chsi"
    )
    assert again.pk != app.pk
