"""Statistics page and API on 200,000 applications: server time p95, cold (figures cache
empty; PostgreSQL's buffers warm) and cached, and the number of queries.

Data is generated in SQL (generate_series) in the bench database, once; rerunning reuses it.
Requests go through Django's test client in-process, so "server time" is the whole request
(middleware, auth, queries, template) without network.
"""

import os
import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

N_APPS = 200_000
YEAR = 2099
DISTRICTS = ["越秀", "海珠", "荔湾", "天河", "白云", "黄埔", "花都", "番禺", "南沙", "从化", "增城"]
PER_DISTRICT = 40


def _setup():
    from subsidy.models import Application, Campaign
    from unions.models import ReviewerLevel, ReviewerProfile, Union

    campaign = Campaign.objects.filter(year=YEAR).first()
    if campaign and Application.objects.filter(campaign=campaign).count() == N_APPS:
        return campaign
    print("   generating 200,000 applications ...", flush=True)
    started = time.monotonic()
    with connection.cursor() as cur:
        cur.execute("TRUNCATE subsidy_application, unions_member RESTART IDENTITY CASCADE")
    Campaign.objects.filter(year=YEAR).delete()
    now = timezone.now()
    opens = (now - timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    campaign = Campaign.objects.create(
        year=YEAR,
        title="基准测试批次",
        eligible_from=(now - timedelta(days=300)).date(),
        eligible_until=now.date(),
        membership_deadline=opens,
        opens_at=opens,
        closes_at=opens + timedelta(days=5),
        grassroots_review_until=now - timedelta(hours=1),
        district_review_until=now + timedelta(days=5),
        city_review_until=now + timedelta(days=10),
        quota=4126,
        application_cap=250_000,
        amount_cny="1500.00",
        applicant_count=N_APPS,
        general_hotline="85571310",
    )
    city, _ = Union.objects.get_or_create(name="基准市总工会", defaults={"level": "city"})
    grassroots = []
    for d in DISTRICTS:
        dist, _ = Union.objects.get_or_create(
            name=f"基准{d}区总工会", defaults={"level": "district", "parent": city}
        )
        for i in range(PER_DISTRICT):
            u, _ = Union.objects.get_or_create(
                name=f"基准{d}区第{i}基层工会", defaults={"level": "grassroots", "parent": dist}
            )
            grassroots.append(u.pk)
    ids = "ARRAY[" + ",".join(map(str, grassroots)) + "]::bigint[]"
    statuses = (
        "ARRAY['pending_grassroots','pending_grassroots','pending_district','pending_city',"
        "'approved','funded','funded','waitlisted','grassroots_rejected','district_rejected',"
        "'pending_chsi','chsi_failed','paid','payment_failed','city_rejected','revoked']"
    )
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO unions_member (name, id_number, id_hmac, mobile, status, active_since,
                created_at, union_id)
            SELECT 'b' || g, 'x', md5('bench' || g), '5' || lpad(g::text, 10, '0'), 'active', now(),
                now(), ({ids})[1 + g % {len(grassroots)}]
            FROM generate_series(1, {N_APPS}) g"""
        )
        cur.execute(
            f"""INSERT INTO subsidy_application (attempt, name, id_number, id_hmac, mobile, kind,
                study_number, worker_group, hukou, job_position, bank_name, bank_account,
                bank_account_hmac, bank_account_last4, bank_branch, bank_card_photo, bin_unknown,
                union_contact_phone, notify_opt_in, idempotency_key, status, submitted_at,
                queue_number, registry_attempts, registry_checked_at, registry_outcome,
                registry_reason, city_approved_at, rejection_reason, confirmed_employed,
                revoked_reason, payment_failure_reason, member_id, union_id, campaign_id)
            SELECT 1, m.name, 'x', m.id_hmac, m.mobile,
                (ARRAY['enrollment','self_study'])[1 + m.id %% 2], 's' || m.id,
                (ARRAY['new_generation','new_employment','manufacturing','model_worker','none'])
                    [1 + m.id %% 5],
                (ARRAY['agricultural','non_agricultural'])[1 + (m.id / 3) %% 2], '岗位', '工行',
                'x', '', '0000', '支行', '', false, '', true, '',
                st.s,
                %(opens)s + (m.id * interval '2 seconds'),
                m.id, 1,
                CASE WHEN st.s = 'pending_chsi' THEN NULL
                     ELSE %(opens)s + (m.id * interval '2 seconds')
                          + ((30 + m.id %% 600) * interval '1 second') END,
                '', '',
                CASE WHEN st.s IN ('approved','funded','waitlisted','paid','payment_failed',
                     'revoked') THEN %(opens)s + interval '2 days' END,
                '', false, '', '', m.id, m.union_id, %(campaign)s
            FROM unions_member m
            CROSS JOIN LATERAL (SELECT ({statuses})[1 + (m.id * 7) %% 16] AS s) st
            WHERE m.name LIKE 'b%%'""",
            {"opens": opens, "campaign": campaign.pk},
        )
        cur.execute("ANALYZE subsidy_application")
        cur.execute("ANALYZE unions_union")
    User = get_user_model()
    for username, level, union in (
        ("bench-city", ReviewerLevel.CITY, city),
        ("bench-yuexiu", ReviewerLevel.DISTRICT, Union.objects.get(name="基准越秀区总工会")),
    ):
        user, _ = User.objects.get_or_create(username=username)
        profile, _ = ReviewerProfile.objects.get_or_create(
            user=user, defaults={"name": username, "level": level}
        )
        profile.managed_unions.set([union])
    print(f"   generated in {time.monotonic() - started:.1f} s", flush=True)
    return campaign


def _p95(xs):
    xs = sorted(xs)
    return xs[max(0, round(0.95 * len(xs)) - 1)]


def _measure(client, url, cold, n, expire_key=None):
    times, queries = [], []
    for _ in range(n):
        if cold:
            cache.clear()
        if expire_key:  # fresh copy expired, stale copy kept: served at once, refresh queued
            cache.delete(expire_key)
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (url, r.status_code)
        queries.append(len(ctx.captured_queries))
    return times, max(queries)


def run(report):
    # The covering index app_campaign_union_cover (subsidy migration 0052) serves these
    # aggregates as index-only scans.
    campaign = _setup()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE subsidy_application")
    _run(report, campaign, "")


def _run(report, campaign, suffix, cached=True):
    User = get_user_model()
    report.row("stats", f"host load average, 1 min (2 cores){suffix}", os.getloadavg()[0])
    for who in ("bench-city", "bench-yuexiu"):
        client = Client()
        client.force_login(User.objects.get(username=who))
        scope = "city" if who == "bench-city" else "district"
        for kind, url in (
            ("page", f"/stats/campaigns/{campaign.pk}/"),
            ("API", f"/api/v1/campaigns/{campaign.pk}/stats/"),
        ):
            _measure(client, url, cold=True, n=2)  # warm PostgreSQL buffers and code paths
            cold, q_cold = _measure(client, url, cold=True, n=10)
            if not cached:
                report.row(
                    "stats",
                    f"{kind} {scope} cold p95 (200k apps){suffix}",
                    _p95(cold),
                    "ms",
                    "< 300",
                    f"median {statistics.median(cold):.0f} ms; {q_cold} queries",
                )
                continue
            warm, q_warm = _measure(client, url, cold=False, n=30)
            from notifications.services.stats import cache_key

            user = User.objects.get(username=who)
            stale, q_stale = _measure(
                client, url, cold=False, n=30, expire_key=cache_key(campaign.pk, user)
            )
            report.row(
                "stats",
                f"{kind} {scope} expired→stale p95",
                _p95(stale),
                "ms",
                "",
                f"median {statistics.median(stale):.1f} ms; {q_stale} queries",
            )
            report.row(
                "stats",
                f"{kind} {scope} cold p95 (200k apps){suffix}",
                _p95(cold),
                "ms",
                "< 300",
                f"median {statistics.median(cold):.0f} ms; {q_cold} queries",
            )
            report.row(
                "stats",
                f"{kind} {scope} cached p95",
                _p95(warm),
                "ms",
                "< 30",
                f"median {statistics.median(warm):.1f} ms; {q_warm} queries",
            )
