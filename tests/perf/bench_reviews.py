"""Review dashboards and the review API at scale (issue 5): 200,000 applications across three
campaigns in PostgreSQL; a district reviewer's dashboard page 1 with a status filter, a name
search and an ID-number search, and the API list — server time (the whole Django stack,
in-process, no network) p50/p95 and query count; query count at two page sizes.

Data is generated with COPY; encrypted columns reuse one ciphertext (decryption happens only
on a detail page), the blind indexes are real so the ID search is a real index look-up.
The benchmark truncates the tables it fills, before and after."""

import os
import random
import statistics
import time
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

N_APPLICATIONS = 200_000
N_CAMPAIGNS = 3
RUNS = int(os.environ.get("BENCH_RUNS", "40"))
TABLES = [
    "reviews_auditrecord",
    "reviews_chainhead",
    "reviews_piiviewlog",
    "reviews_openedapplication",
    "subsidy_application",
    "unions_member",
    "unions_reviewerprofile_managed_unions",
    "unions_reviewerprofile",
    "subsidy_campaign",
    "unions_union",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏辉建国志强文斌"
CURRENT_STATUSES = [
    ("pending_grassroots", 30),
    ("pending_district", 25),
    ("pending_city", 15),
    ("grassroots_rejected", 6),
    ("district_rejected", 4),
    ("city_rejected", 2),
    ("approved", 8),
    ("pending_chsi", 5),
    ("chsi_failed", 5),
]
PAST_STATUSES = [
    ("paid", 55),
    ("waitlisted", 10),
    ("grassroots_rejected", 10),
    ("district_rejected", 8),
    ("city_rejected", 5),
    ("chsi_failed", 7),
    ("revoked", 2),
    ("payment_failed", 3),
]


def _truncate():
    with connection.cursor() as cur:
        cur.execute("TRUNCATE " + ", ".join(TABLES) + " RESTART IDENTITY CASCADE")


def _weighted(pairs, rng, n):
    values = [v for v, _ in pairs]
    weights = [w for _, w in pairs]
    return rng.choices(values, weights=weights, k=n)


def _build(rng):
    from subsidy.models import Campaign
    from tests.factories import make_id_number
    from unions.models import ReviewerLevel, ReviewerProfile, Union
    from unions.pii import blind_index, encrypt

    city = Union.objects.create(name="广州市总工会", level="city")
    districts = [
        Union.objects.create(name=f"第{i}区总工会", level="district", parent=city)
        for i in range(1, 12)
    ]
    grassroots = []
    for d in districts:
        for j in range(20):
            grassroots.append(Union.objects.create(name=f"{d.name}基层工会{j}", parent=d))
    now = timezone.now()
    campaigns = []
    for k in range(N_CAMPAIGNS):
        year = 2024 - (N_CAMPAIGNS - 1 - k)
        current = k == N_CAMPAIGNS - 1
        opens = now - timedelta(days=1 if current else 365 * (N_CAMPAIGNS - 1 - k))
        campaigns.append(
            Campaign.objects.create(
                year=year,
                title=f"{year} 年职工学历教育补助",
                eligible_from=(opens - timedelta(days=300)).date(),
                eligible_until=(opens + timedelta(days=30)).date(),
                membership_deadline=opens,
                opens_at=opens,
                closes_at=opens + timedelta(days=4),
                grassroots_review_until=opens + timedelta(days=6),
                district_review_until=opens + timedelta(days=12),
                city_review_until=opens + timedelta(days=18),
                quota=4126,
                application_cap=80_000,
                amount_cny="1500.00",
            )
        )
    per_campaign = N_APPLICATIONS // N_CAMPAIGNS + 1
    n_members = per_campaign
    cipher_id = encrypt(make_id_number(1))
    cipher_account = encrypt("6222021001115227281")
    member_rows = []
    id_numbers = {}
    for i in range(n_members):
        union = grassroots[i % len(grassroots)]
        idn = make_id_number(i + 10)
        id_numbers[i] = (idn, union)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if i % 2 else "")
        member_rows.append(
            (name, cipher_id, blind_index(idn), f"13{i:09d}", union.pk, "active", now, now)
        )
    with connection.cursor() as cur:
        with cur.cursor.copy(
            "COPY unions_member (name, id_number, id_hmac, mobile, union_id, status, "
            "active_since, created_at) FROM STDIN"
        ) as cp:
            for row in member_rows:
                cp.write_row(row)
        cur.execute("SELECT id FROM unions_member ORDER BY id")
        member_ids = [r[0] for r in cur.fetchall()]
    cols = (
        "attempt, name, id_number, id_hmac, mobile, kind, study_number, worker_group, hukou, "
        "job_position, bank_name, bank_account, bank_account_hmac, bank_account_last4, "
        "bank_branch, bank_card_photo, bin_unknown, union_contact_phone, notify_opt_in, "
        "idempotency_key, status, submitted_at, queue_number, registry_attempts, "
        "registry_outcome, registry_reason, rejection_reason, confirmed_employed, "
        "revoked_reason, payment_failure_reason, member_id, union_id, campaign_id"
    )
    groups = ["none"] * 6 + ["new_generation", "new_employment", "manufacturing", "model_worker"]
    written = 0
    with connection.cursor() as cur:
        with cur.cursor.copy(f"COPY subsidy_application ({cols}) FROM STDIN") as cp:
            for k, campaign in enumerate(campaigns):
                count = min(per_campaign, N_APPLICATIONS - written)
                statuses = _weighted(
                    CURRENT_STATUSES if k == N_CAMPAIGNS - 1 else PAST_STATUSES, rng, count
                )
                for q in range(count):
                    i = (q * 7 + k) % n_members
                    m = member_rows[i]
                    cp.write_row(
                        (
                            1, m[0], cipher_id, m[2], m[3], "enrollment", f"2024{i:08d}",
                            groups[i % len(groups)], "non_agricultural", "机修工", "中国工商银行",
                            cipher_account, "x", "7281", "广州天河支行", "", False,
                            "020-83000000", True, "", statuses[q],
                            campaign.opens_at + timedelta(seconds=q), q + 1, 1, "pass", "",
                            "", False, "", "", member_ids[i], m[4], campaign.pk,
                        )
                    )  # fmt: skip
                written += count
    # What autovacuum does after a bulk load: statistics, and the visibility map that lets
    # the per-status counts run as index-only scans on (campaign, union, status).
    with connection.cursor() as cur:
        for table in ("subsidy_application", "unions_member", "unions_union"):
            cur.execute(f"VACUUM ANALYZE {table}")
    reviewer_user = _user("bench-district")
    profile = ReviewerProfile.objects.create(
        user=reviewer_user, name="区总审核员", level=ReviewerLevel.DISTRICT
    )
    profile.managed_unions.set([districts[0]])
    # an ID number of a member of the reviewer's district who applied in the current campaign
    target = next(i for i in range(n_members) if id_numbers[i][1].parent_id == districts[0].pk)
    return reviewer_user, id_numbers[target][0], member_rows[target][0], written


def _user(username):
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username=username)
    return user


def _measure(client, url):
    client.get(url)
    client.get(url)
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(ctx.captured_queries)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def run(report):
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(20240801)
    _truncate()
    started = time.monotonic()
    user, id_number, name, written = _build(rng)
    report.row("reviews", "generate applications (COPY)", written, "rows", "200,000",
               f"{time.monotonic() - started:.0f} s")  # fmt: skip
    client = Client()
    client.force_login(user)
    cases = [
        # The floor on this machine: a signed-in request doing one SELECT 1 (the health check).
        ("baseline: /api/v1/health/", "/api/v1/health/"),
        ("dashboard p1, status=pending_district", "/review/?status=pending_district"),
        ("dashboard p1, name search", f"/review/?q={name[:2]}"),
        ("dashboard p1, ID-number search", f"/review/?q={id_number}"),
        ("API list p1, status=pending_district", "/api/v1/reviews/?status=pending_district"),
        ("API list p1, ID-number search", f"/api/v1/reviews/?q={id_number}"),
    ]
    for label, url in cases:
        p50, p95, queries = _measure(client, url)
        report.row("reviews", f"{label} p50", p50, "ms", "", "")
        report.row("reviews", f"{label} p95", p95, "ms", "< 100", f"{queries} queries")
    small = _queries(client, "/review/?status=pending_district&per_page=20")
    large = _queries(client, "/review/?status=pending_district&per_page=100")
    report.row("reviews", "dashboard queries, 20 vs 100 rows", f"{small} / {large}", "", "equal")
    small = _queries(client, "/api/v1/reviews/?page_size=5")
    large = _queries(client, "/api/v1/reviews/?page_size=50")
    report.row("reviews", "API list queries, 5 vs 50 rows", f"{small} / {large}", "", "equal")
    if not os.environ.get("BENCH_KEEP"):  # BENCH_KEEP=1 leaves the data for EXPLAIN
        _truncate()
