"""The tamper-evident audit trail (SPEC §6): `verify_audit` passes on a clean chain and names
the first record that was altered or removed by raw SQL; the admin cannot edit records."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from reviews.models import AuditRecord
from reviews.services import decisions


@pytest.fixture
def chain(reviewers, make_app, tree):
    """Five records: five applications approved at grassroots."""
    for _ in range(5):
        app = make_app(tree.a1)
        decisions.approve(reviewers.grassroots_a.user, app.pk, confirm_employed=True)
    assert AuditRecord.objects.count() == 5


def _sql(statement, params):
    with connection.cursor() as cur:
        cur.execute(statement, params)


def test_clean_chain_passes(chain, capsys):
    call_command("verify_audit")
    assert "共 5 条记录" in capsys.readouterr().out


def test_a_reason_changed_by_raw_sql_is_named(chain):
    _sql("UPDATE reviews_auditrecord SET reason = %s WHERE seq = %s", ["篡改", 3])
    with pytest.raises(CommandError, match="#3 的内容已被篡改"):
        call_command("verify_audit")


def test_a_record_rewritten_with_a_fresh_hash_is_still_caught_by_its_successor(chain):
    from reviews.services.audit import hashed_fields, record_hash

    r = AuditRecord.objects.get(seq=2)
    r.to_status = "approved"
    new_hash = record_hash(r.prev_hash, hashed_fields(r))
    _sql(
        "UPDATE reviews_auditrecord SET to_status = %s, hash = %s WHERE seq = %s",
        ["approved", new_hash, 2],
    )
    with pytest.raises(CommandError, match="#2 已被篡改"):
        call_command("verify_audit")


def test_a_deleted_record_is_named(chain):
    _sql("DELETE FROM reviews_auditrecord WHERE seq = %s", [4])
    with pytest.raises(CommandError, match="#4 已被删除"):
        call_command("verify_audit")


def test_records_cut_off_the_end_are_named(chain):
    _sql("DELETE FROM reviews_auditrecord WHERE seq >= %s", [4])
    with pytest.raises(CommandError, match="#4 至 #5 已被删除"):
        call_command("verify_audit")


def test_record_fields_cover_actor_level_reason_and_ip(reviewers, app_a1, client):
    client.force_login(reviewers.grassroots_a.user)
    client.post(
        f"/review/applications/{app_a1.pk}/decide/",
        {"decision": "reject", "reason": "非在职", "expected_status": "pending_grassroots"},
        REMOTE_ADDR="192.0.2.7",
    )
    r = AuditRecord.objects.get()
    assert (r.from_status, r.to_status, r.reason, r.level, r.ip) == (
        "pending_grassroots",
        "grassroots_rejected",
        "非在职",
        "grassroots",
        "192.0.2.7",
    )
    assert (
        r.actor_name == reviewers.grassroots_a.name
        and r.union == reviewers.grassroots_a.managed_unions.first()
    )
    call_command("verify_audit")


@pytest.mark.parametrize("model", ["auditrecord", "piiviewlog"])
def test_admin_is_read_only(admin_client, chain, model):
    assert admin_client.get(f"/admin/reviews/{model}/add/").status_code == 403
    if model == "auditrecord":
        pk = AuditRecord.objects.first().pk
        assert admin_client.get(f"/admin/reviews/{model}/").status_code == 200
        page = admin_client.get(f"/admin/reviews/{model}/{pk}/change/")
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert admin_client.post(f"/admin/reviews/{model}/{pk}/delete/").status_code == 403
        before = AuditRecord.objects.get(pk=pk).reason
        admin_client.post(f"/admin/reviews/{model}/{pk}/change/", {"reason": "x"})
        assert AuditRecord.objects.get(pk=pk).reason == before


def test_records_written_in_bulk_continue_the_same_chain(chain, make_app, tree, reviewers):
    """Allocation's plain-row path (`append_moves`, a COPY on PostgreSQL) links and hashes its
    records exactly as single appends do: the chain verifies across both, with the actor and
    the request's address in the hash."""
    from reviews.services import audit
    from subsidy.request_context import reset_ip, set_ip

    city_user = reviewers.city.user
    apps = [make_app(tree.a1) for _ in range(3)]
    token = set_ip("2001:db8:0:0::1")
    try:
        audit.append_moves(
            [(a.pk, "fund", "approved", "funded") for a in apps], actor=city_user, reason="分配"
        )
    finally:
        reset_ip(token)
    audit.append(apps[0], "revoke", "funded", "revoked", reason="取消")
    records = list(AuditRecord.objects.order_by("seq"))
    assert [r.seq for r in records] == list(range(1, 10))
    bulk = records[5:8]
    assert {r.application_id for r in bulk} == {a.pk for a in apps}
    assert {(r.actor_id, r.reason, r.ip) for r in bulk} == {(city_user.pk, "分配", "2001:db8::1")}
    assert records[8].prev_hash == records[7].hash
    call_command("verify_audit")
