"""Suite-wide fixtures. Under CI the suite refuses to run on SQLite or without Redis, and a
run that skipped any test fails: a missing PostgreSQL or Redis must fail loudly, not pass
quietly with the tests that need them skipped."""

import logging
import os

import pytest
from django.conf import settings

from config.celery import app as celery_app
from tests.factories import (
    CampaignFactory,
    CommitmentFactory,
    MemberFactory,
    ReviewerFactory,
    UnionFactory,
)


def pytest_configure(config):
    if os.environ.get("CI") and not settings.USING_POSTGRES:
        raise pytest.UsageError("CI must run the tests against PostgreSQL: set DATABASE_URL")
    if os.environ.get("CI") and not settings.REDIS_URL:
        raise pytest.UsageError("CI must run the tests with Redis: set REDIS_URL")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """Under CI a skipped test is a failure (on the controller, which sees every result)."""
    if not os.environ.get("CI") or hasattr(session.config, "workerinput") or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        names = ", ".join(r.nodeid for r in skipped[:5])
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped, which CI does not allow: {names}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _test_defaults(settings, request, tmp_path):
    """Eager Celery and in-memory SMS unless a test asks for the real thing."""
    settings.SMS_BACKEND = "locmem"
    settings.REFERENCE_CACHE_SECONDS = 0  # each test's own BIN rows and commitment letter
    settings.CAMPAIGN_CACHE_SECONDS = 0  # and its own campaign
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.AXES_ENABLED = False
    from sms.backends import LocmemBackend

    LocmemBackend.clear()
    real = request.node.get_closest_marker("real_celery") is not None
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = not real
    # The registry hand-off's own thread (registry.handoff) runs only where the rows
    # are committed, as in production; elsewhere another connection would not see them, and
    # the tests push with pipeline.handoff.flush() themselves.
    from registry import pipeline

    db = request.node.get_closest_marker("django_db")
    pipeline.handoff.background = bool(
        (db is not None and db.kwargs.get("transaction"))
        or {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    pipeline.handoff._pending.clear()
    yield
    if pipeline.handoff.background:
        pipeline.handoff.flush()  # its pushes land in this test, not in the next one's Redis
    celery_app.conf.task_always_eager = old


@pytest.fixture
def hooks():
    """The test-only switches and delays (testhooks): `hooks.set(intake_locking=False, ...)`;
    every hook is back at its production value after the test."""
    import testhooks

    class Setter:
        set = staticmethod(testhooks.set_hooks)
        current = staticmethod(testhooks.current)

    yield Setter()
    testhooks.reset()


@pytest.fixture(autouse=True)
def _production_hooks():
    """Every test starts with the test hooks at their production values."""
    import testhooks

    testhooks.reset()
    yield
    testhooks.reset()


class _UnregisteredCodes(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture(autouse=True)
def _registered_codes_only(request):
    """A test during which the code answered an error code that is not registered in
    subsidy/codes.py (or with another status than the registered one) fails."""
    handler = _UnregisteredCodes()
    logger = logging.getLogger("subsidy.codes")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)
    if handler.messages and "codes_unchecked" not in request.fixturenames:
        pytest.fail("; ".join(handler.messages), pytrace=False)


@pytest.fixture
def codes_unchecked():
    """For the tests of the check itself: unregistered codes on purpose."""


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    _clear_own_keys(cache)
    yield


def _clear_own_keys(cache):
    """Delete only this test process's keys: `cache.clear()` on Redis is FLUSHDB, which would
    also wipe the other xdist worker's keys and any Celery queue sharing the database."""
    if not settings.REDIS_URL:
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def tree(db):
    """A small union tree: city → 越秀区 → two grassroots, 海珠区 → one, an industry union → one."""
    city = UnionFactory(name="广州市总工会", level="city", parent=None)
    yuexiu = UnionFactory(name="越秀区总工会", level="district", parent=city, hotline="87370160")
    haizhu = UnionFactory(name="海珠区总工会", level="district", parent=city, hotline="89088752")
    industry = UnionFactory(
        name="广州市交通运输工会", level="industry", parent=city, hotline="83000001"
    )
    a1 = UnionFactory(name="越秀区甲公司工会", parent=yuexiu)
    a2 = UnionFactory(name="越秀区乙公司工会", parent=yuexiu)
    b1 = UnionFactory(name="海珠区丙公司工会", parent=haizhu)
    i1 = UnionFactory(name="广州地铁某车队工会", parent=industry)
    return type(
        "Tree",
        (),
        dict(
            city=city, yuexiu=yuexiu, haizhu=haizhu, industry=industry, a1=a1, a2=a2, b1=b1, i1=i1
        ),
    )


@pytest.fixture
def campaign(db):
    CommitmentFactory()
    return CampaignFactory()


@pytest.fixture
def member(tree):
    return MemberFactory(union=tree.a1)


@pytest.fixture
def reviewers(tree):
    """One reviewer per role of the permission matrix."""
    from unions.models import ReviewerLevel as L

    return type(
        "Reviewers",
        (),
        dict(
            grassroots_a=ReviewerFactory(level=L.GRASSROOTS, unions=[tree.a1]),
            grassroots_b=ReviewerFactory(level=L.GRASSROOTS, unions=[tree.b1]),
            district_yuexiu=ReviewerFactory(level=L.DISTRICT, unions=[tree.yuexiu]),
            district_haizhu=ReviewerFactory(level=L.DISTRICT, unions=[tree.haizhu]),
            industry=ReviewerFactory(level=L.DISTRICT, unions=[tree.industry]),
            city=ReviewerFactory(level=L.CITY, unions=[tree.city]),
        ),
    )
