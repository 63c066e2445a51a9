"""Benchmarks of the payout stage (issue 6), all in one run so the figures compare:

1. allocation of 100,000 city-approved applications: the set-based ranking statement vs a
   straightforward ORM loop (`for app in …: if changed: app.status = …; app.save()`) over the
   same rows, in two situations: the first allocation of 100,000 rows never allocated (every
   row moves; the ORM loop is measured on a 2,000-row slice and extrapolated ×50, the full loop
   takes minutes), and the allocation after one late city approval with 100,000 already
   allocated (what runs after each approval in production; measured in full for both).
   The ORM loop loads only id/status, so decryption does not inflate the ratio.
   Also reported: the full `allocate()` with the audit record and the applicant's notice of
   every moved row (first run: all 100,000 move, so 100,000 records and notices are written),
   and a steady-state re-run after one late approval.
2. payment export: creating a batch of 4,126 funded rows (items + CSV + XLSX written once).
3. the public list (4,126 grantees): requests per second, cached vs uncached.

Data is generated with INSERT … SELECT generate_series (PostgreSQL) in campaign year 2099 and
removed afterwards. Run: `make bench BENCH=allocation`.
"""

import time
from datetime import timedelta

YEAR = 2099
N = 100_000
QUOTA = 4126
ORM_SLICE = 2_000


def _cleanup(cur):
    cur.execute("SELECT id FROM subsidy_campaign WHERE year = %s", [YEAR])
    row = cur.fetchone()
    if not row:
        return
    cid = row[0]
    apps = "SELECT id FROM subsidy_application WHERE campaign_id = %s"
    for sql in (
        f"DELETE FROM payouts_grantledger WHERE application_id IN ({apps})",
        "DELETE FROM payouts_paymentfiledownload WHERE batch_id IN "
        "(SELECT id FROM payouts_paymentbatch WHERE campaign_id = %s)",
        "DELETE FROM payouts_paymentitem WHERE batch_id IN "
        "(SELECT id FROM payouts_paymentbatch WHERE campaign_id = %s)",
        "DELETE FROM payouts_paymentbatch WHERE campaign_id = %s",
        f"DELETE FROM reviews_auditrecord WHERE application_id IN ({apps})",
        f"DELETE FROM notifications_notification WHERE application_id IN ({apps})",
        "DELETE FROM subsidy_application WHERE campaign_id = %s",
    ):
        cur.execute(sql, [cid])
    cur.execute("DELETE FROM unions_member WHERE name LIKE 'bench6-%%'")
    cur.execute("DELETE FROM subsidy_campaign WHERE id = %s", [cid])


def _setup():
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from subsidy.models import Campaign
    from unions.models import Union
    from unions.pii import encrypt

    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cur:
        _cleanup(cur)
        city, _ = Union.objects.get_or_create(name="广州市总工会", defaults={"level": "city"})
        district, _ = Union.objects.get_or_create(
            name="越秀区总工会", defaults={"level": "district", "parent": city}
        )
        union, _ = Union.objects.get_or_create(
            name="基准测试工会", defaults={"level": "grassroots", "parent": district}
        )
        campaign = Campaign.objects.create(
            year=YEAR,
            title=f"{YEAR} 年基准测试批次",
            eligible_from=now.date() - timedelta(days=300),
            eligible_until=now.date(),
            membership_deadline=now - timedelta(days=10),
            opens_at=now - timedelta(days=9),
            closes_at=now - timedelta(days=5),
            grassroots_review_until=now - timedelta(days=4),
            district_review_until=now - timedelta(days=3),
            city_review_until=now + timedelta(days=1),
            quota=QUOTA,
            application_cap=N + 10,
            amount_cny="1500.00",
        )
        token = encrypt("440106199503070000")
        account = encrypt("6222021001115227281")
        cur.execute(
            """INSERT INTO unions_member (name, id_number, id_hmac, mobile, status, created_at,
                   union_id, active_since)
               SELECT 'bench6-' || g, %s, md5('bench6-' || g), '139' || lpad(g::text, 8, '0'),
                      'active', now(), %s, now() - interval '1 year'
               FROM generate_series(1, %s) g""",
            [token, union.pk, N],
        )
        cur.execute(
            """INSERT INTO subsidy_application (attempt, name, id_number, id_hmac, mobile, kind,
                   study_number, worker_group, hukou, job_position, bank_name, bank_account,
                   bank_account_hmac, bank_account_last4, bank_branch, bank_card_photo,
                   bin_unknown, union_contact_phone, notify_opt_in, idempotency_key, status,
                   submitted_at, queue_number, registry_attempts, registry_outcome,
                   registry_reason, rejection_reason, confirmed_employed, revoked_reason,
                   payment_failure_reason, member_id, union_id, campaign_id, city_approved_at)
               SELECT 1, m.name, m.id_number, m.id_hmac, m.mobile, 'enrollment', 'S' || m.id,
                      'none', 'non_agricultural', '机修工', '中国工商银行', %s, md5('acct' || m.id),
                      '7281', '广州天河支行', '', false, '020-83000000', true, '', 'approved',
                      %s + (m.id %% 100000) * interval '1 second', row_number() OVER (ORDER BY m.id),
                      1, 'pass', '', '', true, '', '', m.id, m.union_id, %s,
                      %s + (random() * 86400) * interval '1 second'
               FROM unions_member m WHERE m.name LIKE 'bench6-%%'""",
            [account, now - timedelta(days=9), campaign.pk, now - timedelta(days=2)],
        )
        cur.execute("ANALYZE subsidy_application")
    return campaign


def _vacuum():
    """A production table is autovacuumed; after bulk rewrites here, do it by hand so dead
    tuples do not dominate the next measurement. Then CHECKPOINT: every measurement starts
    with no dirty buffers left from the set-up (so none is flushed by the statement measured),
    and pays the full-page images of its first write to each page, as after any checkpoint."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE subsidy_application")
        cur.execute("CHECKPOINT")


def _reset(campaign):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE subsidy_application SET status = 'approved' WHERE campaign_id = %s",
            [campaign.pk],
        )
    _vacuum()


def _orm_loop(campaign, limit=None):
    """The naive version: rank in Python, save each row whose status changes."""
    from django.db import transaction

    from subsidy.models import Application

    with transaction.atomic():
        rows = (
            Application.objects.filter(
                campaign=campaign, status__in=["approved", "funded", "waitlisted"]
            )
            .order_by("submitted_at", "city_approved_at", "queue_number")
            .only("id", "status")
        )
        if limit:
            rows = rows[:limit]
        for i, app in enumerate(rows, 1):
            status = "funded" if i <= campaign.quota else "waitlisted"
            if app.status != status:
                app.status = status
                app.save(update_fields=["status"])


def run(report):
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from payouts.services import allocation, payment
    from subsidy.models import Application, Campaign

    started = time.perf_counter()
    campaign = _setup()
    _vacuum()
    report.row(
        "payouts", f"generate {N:,} approved applications", time.perf_counter() - started, "s"
    )

    # 1. set-based statement vs ORM loop
    t = time.perf_counter()
    with transaction.atomic():
        moved = allocation._run_ranking(campaign)
    sql_s = time.perf_counter() - t
    report.row(
        "allocation", f"set-based rank + write, first run: all {N:,} rows move", sql_s, "s", "< 2 s"
    )
    assert len(moved) == N
    _reset(campaign)
    t = time.perf_counter()
    _orm_loop(campaign, ORM_SLICE)
    orm_slice_s = time.perf_counter() - t
    orm_s = orm_slice_s * N / ORM_SLICE
    report.row(
        "allocation",
        f"ORM loop, {ORM_SLICE:,} rows measured, ×{N // ORM_SLICE} extrapolated",
        orm_s,
        "s",
        "",
        f"measured {orm_slice_s:.1f} s for {ORM_SLICE:,}",
    )
    report.row(
        "allocation", "speed-up set-based vs ORM loop, first run", orm_s / sql_s, "×", "≥ 20×"
    )
    _reset(campaign)
    from notifications.models import Notification
    from reviews.models import AuditRecord

    t = time.perf_counter()
    result = allocation.allocate(campaign)
    full_s = time.perf_counter() - t
    records = AuditRecord.objects.filter(application__campaign=campaign).count()
    notices = Notification.objects.filter(application__campaign=campaign).count()
    report.row(
        "allocation",
        f"allocate() incl. audit + notice of {result.moved_count:,} moved rows",
        full_s,
        "s",
        "",
        f"first run: every row moves; {records:,} audit records, {notices:,} notices written",
    )
    _vacuum()
    t = time.perf_counter()
    result = allocation.allocate(campaign)
    report.row(
        "allocation",
        "allocate() re-run, nothing changed (100k ranked)",
        time.perf_counter() - t,
        "s",
        "< 2 s",
        f"{result.moved_count} rows moved",
    )
    # one late approval of the EARLIEST submission: every later place shifts by one (the worst
    # case when places were stored); now only the statuses that change are written
    first = Application.objects.filter(campaign=campaign).order_by("queue_number").first()
    Application.objects.filter(pk=first.pk).update(status="pending_city")
    allocation.allocate(campaign)
    Application.objects.filter(pk=first.pk).update(
        status="approved", city_approved_at=timezone.now()
    )
    t = time.perf_counter()
    result = allocation.allocate(campaign)
    late_s = time.perf_counter() - t
    report.row(
        "allocation",
        "allocate() after a late approval of the earliest row",
        late_s,
        "s",
        "< 2 s",
        f"{result.moved_count} statuses moved",
    )
    # the same late approval, allocated by the ORM loop (it reads all 100k rows to rank them)
    Application.objects.filter(pk=first.pk).update(status="pending_city")
    allocation.allocate(campaign)
    Application.objects.filter(pk=first.pk).update(
        status="approved", city_approved_at=timezone.now()
    )
    t = time.perf_counter()
    _orm_loop(campaign)
    orm_late_s = time.perf_counter() - t
    report.row(
        "allocation",
        "ORM loop after the same late approval (100k rows read)",
        orm_late_s,
        "s",
        "",
        f"set-based is {orm_late_s / late_s:.0f}× faster here",
    )

    # 3. public list, cached vs uncached (publication open)
    from unions.pii import blind_index, encrypt

    Campaign.objects.filter(pk=campaign.pk).update(published_at=timezone.now())
    client = Client()
    url = f"/public/campaigns/{campaign.pk}/"
    from payouts.services.public_list import invalidate_public_list

    n_uncached, n_cached = 15, 300
    t = time.perf_counter()
    for _ in range(n_uncached):
        invalidate_public_list(campaign.pk)
        assert client.get(url).status_code == 200
    uncached_rps = n_uncached / (time.perf_counter() - t)
    client.get(url)
    t = time.perf_counter()
    for _ in range(n_cached):
        client.get(url)
    cached_rps = n_cached / (time.perf_counter() - t)
    report.row("public", "public list (4,126 rows) uncached", uncached_rps, "req/s")
    report.row("public", "public list (4,126 rows) cached", cached_rps, "req/s")
    report.row("public", "cached vs uncached", cached_rps / uncached_rps, "×")

    # 2. payment export of the 4,126 funded rows (distinct accounts, publication over)
    funded = list(
        Application.objects.filter(campaign=campaign, status="funded").values_list("id", flat=True)
    )
    with connection.cursor() as cur:
        rows = []
        for i, pk in enumerate(funded):
            acct = f"62220210{i:011d}"
            rows.append((encrypt(acct), blind_index(acct, purpose="account"), acct[-4:], pk))
        cur.executemany(
            "UPDATE subsidy_application SET bank_account = %s, bank_account_hmac = %s, "
            "bank_account_last4 = %s WHERE id = %s",
            rows,
        )
    Campaign.objects.filter(pk=campaign.pk).update(published_at=timezone.now() - timedelta(days=6))
    t = time.perf_counter()
    batch = payment.create_batch(campaign.pk)
    report.row(
        "payment",
        f"create batch + CSV + XLSX, {batch.item_count:,} rows",
        time.perf_counter() - t,
        "s",
        "< 2 s",
    )
    cache.clear()
    with transaction.atomic(), connection.cursor() as cur:
        _cleanup(cur)
