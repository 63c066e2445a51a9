"""Two reviewers decide the same application at the same moment (SPEC §6): exactly one wins,
the other gets 409 `conflict` with the current status — real parallel HTTP requests against
a live server on PostgreSQL. The control case switches the protection off (the test hook
`review_locking`) and shows the silent overwrite it prevents."""

import threading

import httpx
import pytest
from django.conf import settings as django_settings
from rest_framework.authtoken.models import Token

from reviews.models import AuditRecord
from reviews.services.audit import verify_chain
from subsidy.models import Application
from tests.factories import ApplicationFactory, MemberFactory, ReviewerFactory

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not django_settings.USING_POSTGRES, reason="row locks need PostgreSQL (CI runs it)"
    ),
]


@pytest.fixture
def race(tree, campaign):
    a = ReviewerFactory(level="grassroots", unions=[tree.a1])
    b = ReviewerFactory(level="grassroots", unions=[tree.a1])
    app = ApplicationFactory(campaign=campaign, member=MemberFactory(union=tree.a1))
    tokens = [Token.objects.create(user=r.user).key for r in (a, b)]
    return app, tokens


def _fire(live_server, app, tokens):
    """Approve (reviewer A) and reject (reviewer B) released by one barrier."""
    barrier = threading.Barrier(2)
    results = {}

    def call(name, token, path, body):
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            barrier.wait()
            r = http.post(path, json=body, headers={"Authorization": f"Token {token}"})
            results[name] = (r.status_code, r.json())

    threads = [
        threading.Thread(
            target=call,
            args=("approve", tokens[0], f"/api/v1/reviews/{app.pk}/approve/", {"confirm_employed": True}),
        ),
        threading.Thread(
            target=call,
            args=("reject", tokens[1], f"/api/v1/reviews/{app.pk}/reject/", {"reason": "非在职职工"}),
        ),
    ]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_approve_and_reject_one_wins_the_other_gets_409(live_server, hooks, race):
    hooks.set(review_delay=0.3)  # both requests are inside the decision at once
    app, tokens = race
    results = _fire(live_server, app, tokens)
    codes = sorted(code for code, _ in results.values())
    assert codes == [200, 409], results
    winner = next(k for k, (c, _) in results.items() if c == 200)
    loser_body = next(body for c, body in results.values() if c == 409)
    final = Application.objects.get(pk=app.pk).status
    assert final == ("pending_district" if winner == "approve" else "grassroots_rejected")
    assert loser_body["code"] == "conflict" and loser_body["status"] == final
    assert AuditRecord.objects.filter(application=app).count() == 1
    assert verify_chain()[1] is None


def test_control_without_the_protection_both_succeed_and_one_is_silently_overwritten(
    live_server, hooks, race
):
    hooks.set(review_delay=0.3, review_locking=False)
    app, tokens = race
    results = _fire(live_server, app, tokens)
    assert [c for c, _ in results.values()] == [200, 200], results
    # Two contradicting decisions were recorded; the row keeps only the later write.
    assert AuditRecord.objects.filter(application=app).count() == 2
    assert Application.objects.get(pk=app.pk).status in ("pending_district", "grassroots_rejected")


def test_parallel_decisions_on_many_applications_keep_one_unbroken_audit_chain(
    live_server, settings, tree, campaign
):
    reviewer = ReviewerFactory(level="grassroots", unions=[tree.a1])
    token = Token.objects.create(user=reviewer.user).key
    apps = [
        ApplicationFactory(campaign=campaign, member=MemberFactory(union=tree.a1)) for _ in range(8)
    ]
    barrier = threading.Barrier(len(apps))
    codes = []

    def call(app):
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            barrier.wait()
            r = http.post(
                f"/api/v1/reviews/{app.pk}/approve/",
                json={"confirm_employed": True},
                headers={"Authorization": f"Token {token}"},
            )
            codes.append(r.status_code)

    threads = [threading.Thread(target=call, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [200] * len(apps)
    checked, problem = verify_chain()
    assert problem is None and checked == len(apps)
    assert sorted(AuditRecord.objects.values_list("seq", flat=True)) == list(range(1, 9))
