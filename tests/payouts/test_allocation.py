"""Allocation (R2, R3, R4): first `quota` by (submitted_at, city approval, queue) are funded."""

from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction

from payouts.services.allocation import allocate, ranking_order
from reviews.models import AuditRecord
from subsidy.models import Application, ApplicationStatus
from subsidy.signals import applications_transitioned
from tests.payouts.conftest import end_intake, make_app, statuses

S = ApplicationStatus
pytestmark = pytest.mark.django_db


def test_first_quota_by_submission_time_are_funded_rest_waitlisted(small_campaign, tree):
    apps = [make_app(small_campaign, tree.a1, m) for m in (50, 10, 40, 20, 30)]
    result = allocate(small_campaign)
    st = statuses(small_campaign)
    by_minute = dict(zip((50, 10, 40, 20, 30), apps, strict=True))
    assert [st[by_minute[m].pk] for m in (10, 20, 30)] == [S.FUNDED] * 3
    assert [st[by_minute[m].pk] for m in (40, 50)] == [S.WAITLISTED] * 2
    assert (result.funded, result.waitlisted) == (3, 2)
    # the public list and the payment files follow the same order
    order = list(
        small_campaign.applications.order_by(*ranking_order()).values_list("pk", flat=True)
    )
    assert order == [by_minute[m].pk for m in (10, 20, 30, 40, 50)]


def test_ties_on_submission_time_break_on_city_approval_then_queue_number(small_campaign, tree):
    small_campaign.quota = 1
    small_campaign.save()
    late_approval = make_app(small_campaign, tree.a1, 5, approved_minute=90)
    early_approval = make_app(small_campaign, tree.a1, 5, approved_minute=10)
    allocate(small_campaign)
    st = statuses(small_campaign)
    assert st[early_approval.pk] == S.FUNDED and st[late_approval.pk] == S.WAITLISTED
    # same submission and approval time → the lower queue number wins
    Application.objects.filter(pk=late_approval.pk).update(
        city_approved_at=early_approval.city_approved_at
    )
    allocate(small_campaign)
    first = min((late_approval, early_approval), key=lambda a: a.queue_number)
    assert statuses(small_campaign)[first.pk] == S.FUNDED


def test_fewer_approved_than_quota_are_all_funded(small_campaign, tree):
    apps = [make_app(small_campaign, tree.a1, m) for m in (1, 2)]
    allocate(small_campaign)
    assert all(statuses(small_campaign)[a.pk] == S.FUNDED for a in apps)


def test_rows_outside_approval_are_not_touched(small_campaign, tree):
    pending = make_app(small_campaign, tree.a1, 1, status=S.PENDING_CITY)
    rejected = make_app(small_campaign, tree.a1, 2, status=S.CITY_REJECTED)
    revoked = make_app(small_campaign, tree.a1, 3, status=S.REVOKED)
    allocate(small_campaign)
    st = statuses(small_campaign)
    assert (st[pending.pk], st[rejected.pk], st[revoked.pk]) == (
        S.PENDING_CITY,
        S.CITY_REJECTED,
        S.REVOKED,
    )


def test_later_approval_of_earlier_submission_bumps_last_funded_and_notifies(small_campaign, tree):
    apps = [make_app(small_campaign, tree.a1, m) for m in (10, 20, 30)]
    allocate(small_campaign)
    received = []

    def listener(sender, moves, **kw):
        received.extend(moves)

    applications_transitioned.connect(listener)
    try:
        earlier = make_app(small_campaign, tree.a1, 5)  # submitted first, approved just now
        result = allocate(small_campaign)
    finally:
        applications_transitioned.disconnect(listener)
    st = statuses(small_campaign)
    assert st[earlier.pk] == S.FUNDED
    assert st[apps[2].pk] == S.WAITLISTED
    moved = set(received)
    assert moved == {
        (earlier.pk, "fund", S.APPROVED, S.FUNDED),
        (apps[2].pk, "waitlist", S.FUNDED, S.WAITLISTED),
    }
    assert result.moved_count == 2
    # the audit chain has one record per moved row, and none for unchanged ones
    assert AuditRecord.objects.filter(application=apps[0]).count() == 1
    assert AuditRecord.objects.filter(application=apps[2], to_status=S.WAITLISTED).count() == 1


def test_running_twice_changes_nothing_the_second_time(small_campaign, tree):
    for m in range(6):
        make_app(small_campaign, tree.a1, m)
    allocate(small_campaign)
    before = AuditRecord.objects.count()
    again = allocate(small_campaign)
    assert again.moved_count == 0
    assert AuditRecord.objects.count() == before


def test_join_settings_are_restored_for_the_callers_transaction(small_campaign, tree):
    """The allocation statement joins by primary key (hash and merge joins off for it only):
    whatever the caller's transaction runs afterwards is planned as before."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner settings exist on PostgreSQL only")
    for m in range(5):
        make_app(small_campaign, tree.a1, m)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_mergejoin = off")  # the caller's own choice stands
        result = allocate(small_campaign)
        cur.execute(
            "SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin')"
        )
        assert cur.fetchone() == ("on", "off")
    assert result.moved_count == 5


def test_after_publication_funded_is_frozen_and_late_approvals_wait(small_campaign, tree):
    from payouts.services.publication import publish

    apps = [make_app(small_campaign, tree.a1, m) for m in (10, 20, 30, 40)]
    allocate(small_campaign)
    end_intake(small_campaign)
    publish(small_campaign.pk)
    late = make_app(small_campaign, tree.a1, 1)  # earliest submission, approved after 公示
    allocate(small_campaign)
    st = statuses(small_campaign)
    assert [st[a.pk] for a in apps[:3]] == [S.FUNDED] * 3
    assert st[late.pk] == S.WAITLISTED
    assert st[apps[3].pk] == S.WAITLISTED
    # and the state machine refuses to waitlist a funded row after publication
    funded = Application.objects.get(pk=apps[0].pk)
    assert not funded.get_available_status_transitions() or all(
        t.target != S.WAITLISTED for t in funded.get_available_status_transitions()
    )


def test_quota_reached_counts_city_approvals_but_not_revoked(small_campaign, tree):
    make_app(small_campaign, tree.a1, 1)
    make_app(small_campaign, tree.a1, 2, status=S.PENDING_CITY)
    make_app(small_campaign, tree.a1, 3, status=S.CITY_REJECTED)
    assert not small_campaign.quota_reached()
    make_app(small_campaign, tree.a1, 4, status=S.WAITLISTED)
    make_app(small_campaign, tree.a1, 5, status=S.REVOKED)
    assert not small_campaign.quota_reached()  # 2 approvals, the revoked one does not count
    make_app(small_campaign, tree.a1, 6, status=S.FUNDED)
    assert small_campaign.quota_reached()
    assert not small_campaign.intake_open()  # R4: intake closes by itself


def test_city_approval_queues_allocation_after_commit(
    small_campaign, tree, reviewers, django_capture_on_commit_callbacks
):
    app = make_app(small_campaign, tree.a1, 1, status=S.PENDING_CITY)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        a = Application.objects.get(pk=app.pk)
        a.city_approve(by=reviewers.city.user)
        a.save()
        assert Application.objects.get(pk=app.pk).status == S.APPROVED  # not yet allocated
    # eager Celery: the task ran after commit
    assert Application.objects.get(pk=app.pk).status == S.FUNDED


def test_a_burst_of_approvals_queues_allocation_once(
    small_campaign, tree, reviewers, django_capture_on_commit_callbacks
):
    from payouts import tasks

    patcher = mock.patch.object(tasks.allocate_campaign, "apply_async")
    sent = patcher.start()
    apps = [make_app(small_campaign, tree.a1, m, status=S.PENDING_CITY) for m in range(8)]
    for app in apps:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            a = Application.objects.get(pk=app.pk)
            a.city_approve(by=reviewers.city.user)
            a.save()
    assert sent.call_count == 1  # the pending flag coalesced the other seven
    # the task clears the flag before it runs: the next approval queues again
    tasks.allocate_campaign.run(small_campaign.pk)
    extra = make_app(small_campaign, tree.a1, 99, status=S.PENDING_CITY)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        a = Application.objects.get(pk=extra.pk)
        a.city_approve(by=reviewers.city.user)
        a.save()
    assert sent.call_count == 2
    patcher.stop()
    assert Application.objects.filter(campaign=small_campaign, status=S.FUNDED).count() == 3


def test_rejection_does_not_queue_allocation(
    small_campaign, tree, reviewers, django_capture_on_commit_callbacks
):
    from payouts import tasks

    app = make_app(small_campaign, tree.a1, 1, status=S.PENDING_CITY)
    with mock.patch.object(tasks.allocate_campaign, "apply_async") as sent:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            a = Application.objects.get(pk=app.pk)
            a.city_reject(by=reviewers.city.user, reason="材料不符")
            a.save()
    assert sent.call_count == 0


def test_allocate_api_is_city_only(small_campaign, tree, reviewers, city_api):
    from rest_framework.test import APIClient

    make_app(small_campaign, tree.a1, 1)
    url = f"/api/v1/campaigns/{small_campaign.pk}/allocate/"
    district = APIClient()
    district.force_authenticate(reviewers.district_yuexiu.user)
    r = district.post(url)
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert APIClient().post(url).status_code in (401, 403)
    r = city_api.post(url)
    assert r.status_code == 200
    assert r.json()["funded"] == 1
    assert city_api.post("/api/v1/campaigns/999999/allocate/").status_code == 404


def test_allocate_button_and_command(small_campaign, tree, city_client, capsys):
    a = make_app(small_campaign, tree.a1, 1)
    r = city_client.post(f"/payouts/campaigns/{small_campaign.pk}/allocate/", follow=True)
    assert "名额分配完成" in r.content.decode()
    assert statuses(small_campaign)[a.pk] == S.FUNDED
    b = make_app(small_campaign, tree.a1, 0)
    call_command("allocate", str(small_campaign.year))
    assert "拟获补助 2 人" in capsys.readouterr().out
    assert statuses(small_campaign)[b.pk] == S.FUNDED


def test_dashboard_is_city_only(small_campaign, client, reviewers):
    client.force_login(reviewers.district_yuexiu.user)
    assert client.get("/payouts/").status_code == 404
    client.logout()
    assert client.get("/payouts/").status_code == 302


def test_dashboard_shows_quota_and_waitlist(small_campaign, tree, city_client):
    for m in range(5):
        make_app(small_campaign, tree.a1, m)
    allocate(small_campaign)
    html = city_client.get("/payouts/").content.decode()
    assert '<span id="quota-used">3</span>' in html
    assert '<span id="quota-remaining">0</span>' in html
    assert '<dd id="waitlist-length">2</dd>' in html


# --- the stage: why allocation's writes are heap-only --------------------------------------


def _pg_only():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("heap-only updates and fill factors are PostgreSQL's")
    return connection


def test_no_index_of_the_application_table_names_the_status():
    """A status change within a stage touches no index only while no index key, INCLUDE
    column or predicate names `status`: one that did would make every allocation write all
    indexes again (4 s instead of 1 s for 100,000 rows in bench_allocation)."""
    connection = _pg_only()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'subsidy_application'"
        )
        indexes = cur.fetchall()
        cur.execute("SELECT reloptions FROM pg_class WHERE relname = 'subsidy_application'")
        options = cur.fetchone()[0]
    assert len(indexes) > 10
    assert [name for name, definition in indexes if "status" in definition] == []
    assert "fillfactor=50" in options


def test_allocation_writes_are_heap_only_updates(small_campaign, tree):
    """Measured in the transaction itself: every status the first allocation moves is a HOT
    update (no index entry written), so its cost is the rows, not the rows times 14 indexes."""
    connection = _pg_only()
    for m in range(8):
        make_app(small_campaign, tree.a1, m)
    updated, hot = _allocate_counting_updates(connection, small_campaign)
    assert (updated, hot) == (8, 8)


def test_control_an_index_naming_the_status_makes_allocation_write_indexes(small_campaign, tree):
    """The control for the test above: with one index on `status` (created and rolled back
    inside the test's transaction) the same allocation's updates are no longer heap-only."""
    connection = _pg_only()
    for m in range(8):
        make_app(small_campaign, tree.a1, m)
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred FK checks pending: DDL
        cur.execute("CREATE INDEX control_status ON subsidy_application (status)")
    updated, hot = _allocate_counting_updates(connection, small_campaign)
    assert (updated, hot) == (8, 0)


def _allocate_counting_updates(connection, campaign):
    """(rows updated, of which heap-only) by one allocate(), from the transaction's counters."""
    counters = (
        "SELECT pg_stat_get_xact_tuples_updated(%s::regclass),"
        " pg_stat_get_xact_tuples_hot_updated(%s::regclass)"
    )
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(counters, ["subsidy_application"] * 2)
        before = cur.fetchone()
        result = allocate(campaign)
        cur.execute(counters, ["subsidy_application"] * 2)
        after = cur.fetchone()
    assert result.moved_count == 8
    return after[0] - before[0], after[1] - before[1]


@pytest.mark.parametrize(
    "asked",
    [
        (S.FUNDED,),
        (S.WAITLISTED, S.PENDING_CITY),
        (S.APPROVED, S.FUNDED, S.WAITLISTED),
        (S.APPROVED, S.FUNDED, S.WAITLISTED, S.REVOKED),
        (S.PENDING_GRASSROOTS,),
        tuple(S.values),
    ],
)
def test_in_status_and_status_counts_agree_with_the_status_column(small_campaign, tree, asked):
    """`stage` is written by the database from the status; `in_status` and `status_counts`,
    which read it so the indexes serve them, give what the status column says."""
    from subsidy.models import stage_of

    for m, status in enumerate(S.values):
        make_app(small_campaign, tree.a1, m, status=status)
    allocate(small_campaign)  # approved rows move by a raw UPDATE: stage follows
    rows = Application.objects.filter(campaign=small_campaign)
    assert all(a.stage == stage_of(a.status) for a in rows)
    expected = set(rows.filter(status__in=asked).values_list("pk", flat=True))
    assert set(rows.in_status(*asked).values_list("pk", flat=True)) == expected
    naive = {}
    for status in rows.values_list("status", flat=True):
        naive[status] = naive.get(status, 0) + 1
    assert rows.status_counts() == naive
