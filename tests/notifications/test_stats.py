"""Statistics equal counts computed independently from the raw rows, per scope."""

import statistics
from collections import Counter
from datetime import datetime, time, timedelta
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from notifications.services import stats
from subsidy.models import Application, Campaign
from tests.factories import ApplicationFactory, MemberFactory

pytestmark = pytest.mark.django_db

HIDDEN = {"pending_chsi", "chsi_failed"}


@pytest.fixture
def rows(campaign, tree):
    """A spread of applications across districts, statuses, groups and hours."""
    opening = timezone.localtime(campaign.opens_at)
    day_start = timezone.make_aware(datetime.combine(opening.date(), time.min))
    plan = [
        (tree.a1, "pending_grassroots", "new_generation", "enrollment", "agricultural", 10),
        (tree.a1, "pending_district", "none", "self_study", "non_agricultural", 10),
        (tree.a1, "approved", "model_worker", "enrollment", "agricultural", 11),
        (tree.a2, "funded", "manufacturing", "self_study", "agricultural", 11),
        (tree.a2, "grassroots_rejected", "none", "enrollment", "non_agricultural", 12),
        (tree.a2, "pending_chsi", "none", "enrollment", "non_agricultural", 12),
        (tree.b1, "pending_city", "new_employment", "enrollment", "agricultural", 10),
        (tree.b1, "approved", "none", "self_study", "non_agricultural", 13),
        (tree.b1, "chsi_failed", "none", "enrollment", "agricultural", 13),
        (tree.b1, "revoked", "none", "enrollment", "agricultural", 14),
        (tree.i1, "paid", "manufacturing", "self_study", "agricultural", 15),
        (tree.i1, "pending_grassroots", "none", "enrollment", "non_agricultural", 15),
    ]
    made = []
    for i, (union, status, group, kind, hukou, hour) in enumerate(plan):
        submitted = day_start + timedelta(hours=hour, minutes=i)
        checked = None if status == "pending_chsi" else submitted + timedelta(seconds=30 + 17 * i)
        approved_at = (
            submitted + timedelta(days=1)
            if status in {"approved", "funded", "paid", "revoked"}
            else None
        )
        made.append(
            ApplicationFactory(
                campaign=campaign,
                member=MemberFactory(union=union),
                status=status,
                worker_group=group,
                kind=kind,
                hukou=hukou,
                submitted_at=submitted,
                registry_checked_at=checked,
                city_approved_at=approved_at,
            )
        )
    # A second attempt by the first member: one applicant, two applications.
    first = made[0]
    Application.objects.filter(pk=first.pk).update(status="grassroots_rejected")
    ApplicationFactory(
        campaign=campaign,
        member=first.member,
        attempt=2,
        status="pending_grassroots",
        submitted_at=day_start + timedelta(days=1),
        registry_checked_at=day_start + timedelta(days=1, seconds=40),
    )
    # Another campaign's rows never count.
    other = Campaign.objects.create(
        **{
            f.name: getattr(campaign, f.name)
            for f in Campaign._meta.concrete_fields
            if f.name not in {"id", "year", "title"}
        },
        year=campaign.year - 1,
        title="往年",
    )
    ApplicationFactory(campaign=other, member=MemberFactory(union=tree.a1), status="approved")
    Campaign.objects.filter(pk=campaign.pk).update(applicant_count=12)
    campaign.refresh_from_db()
    return made


def expected(campaign, predicate):
    """Independent computation from raw rows, in Python."""
    raw = [
        a
        for a in Application.objects.filter(campaign=campaign).select_related("union__district")
        if predicate(a)
    ]
    by_status = Counter(a.status for a in raw)
    by_district = Counter(
        (a.union.district.name if a.union.district else "市总工会直属", a.status) for a in raw
    )
    latencies = sorted(
        (a.registry_checked_at - a.submitted_at).total_seconds()
        for a in raw
        if a.registry_checked_at
    )
    opening = timezone.localtime(campaign.opens_at).date()
    hours = Counter(
        f"{timezone.localtime(a.submitted_at):%H}:00"
        for a in raw
        if timezone.localtime(a.submitted_at).date() == opening
    )
    return dict(
        applications=len(raw),
        applicants=len({a.member_id for a in raw}),
        approved=sum(1 for a in raw if a.city_approved_at and a.status != "revoked"),
        by_status=by_status,
        by_district=by_district,
        groups=Counter(a.worker_group for a in raw),
        kinds=Counter(a.kind for a in raw),
        hukous=Counter(a.hukou for a in raw),
        median=statistics.median(latencies) if latencies else None,
        # percentile_cont's definition: linear interpolation between the closest ranks.
        p95=statistics.quantiles(latencies, n=20, method="inclusive")[-1]
        if len(latencies) > 1
        else (latencies[0] if latencies else None),
        hours=hours,
    )


def assert_matches(data, exp):
    assert data["applications"] == exp["applications"]
    if data["scope"] != "city":
        assert data["applicants_in_scope"] == exp["applicants"]
    assert data["approvals"]["count"] == exp["approved"]
    assert {r["status"]: r["count"] for r in data["by_status"] if r["count"]} == dict(
        exp["by_status"]
    )
    got_d = Counter()
    for d in data["by_district"]:
        for s, n in d["counts"].items():
            if n:
                got_d[(d["district"], s)] = n
        assert d["total"] == sum(d["counts"].values())
    assert got_d == exp["by_district"]
    for key, ekey in (("by_worker_group", "groups"), ("by_kind", "kinds"), ("by_hukou", "hukous")):
        assert {r["code"]: r["count"] for r in data[key] if r["count"]} == dict(exp[ekey])
    assert data["registry_latency"]["median_seconds"] == pytest.approx(exp["median"], abs=0.1)
    assert data["registry_latency"]["p95_seconds"] == pytest.approx(exp["p95"], abs=0.1)
    assert {h["hour"]: h["count"] for h in data["opening_day"]["hours"] if h["count"]} == dict(
        exp["hours"]
    )
    backlog = {b["level"]: b["pending"] for b in data["backlog"]}
    assert backlog == {
        "grassroots": exp["by_status"]["pending_grassroots"],
        "district": exp["by_status"]["pending_district"],
        "city": exp["by_status"]["pending_city"],
    }


def test_city_figures_equal_raw_counts(campaign, rows, reviewers):
    data = stats.compute(campaign, reviewers.city.user)
    assert_matches(data, expected(campaign, lambda a: True))  # attachment 3: all of them
    assert data["scope"] == "city"
    assert data["applicants"] == {"count": 12, "cap": 6000}  # the R1 counter
    assert data["approvals"]["quota"] == 4126
    assert {d["district"] for d in data["by_district"]} == {
        "越秀区总工会",
        "海珠区总工会",
        "广州市交通运输工会",
    }


def test_district_figures_cover_only_its_subtree(campaign, rows, reviewers, tree):
    data = stats.compute(campaign, reviewers.district_yuexiu.user)
    exp = expected(
        campaign,
        lambda a: a.union.path.startswith(tree.yuexiu.path),
    )
    assert_matches(data, exp)
    assert [d["district"] for d in data["by_district"]] == ["越秀区总工会"]  # no leakage
    assert data["applicants"]["count"] == exp["applicants"]
    haizhu = stats.compute(campaign, reviewers.district_haizhu.user)
    assert [d["district"] for d in haizhu["by_district"]] == ["海珠区总工会"]
    assert haizhu["applications"] == 4  # pending_city, approved, chsi_failed, revoked
    assert haizhu["approvals"]["count"] == 1


def test_grassroots_figures_cover_managed_unions(campaign, rows, reviewers, tree):
    data = stats.compute(campaign, reviewers.grassroots_a.user)
    assert_matches(
        data, expected(campaign, lambda a: a.status not in HIDDEN and a.union_id == tree.a1.pk)
    )


def test_overdue_per_level_after_deadline(campaign, rows, reviewers):
    campaign.grassroots_review_until = timezone.now() - timedelta(hours=1)
    campaign.save()
    data = stats.compute(campaign, reviewers.city.user)
    backlog = {b["level"]: b for b in data["backlog"]}
    assert backlog["grassroots"]["overdue"] == backlog["grassroots"]["pending"] == 2
    assert backlog["district"]["overdue"] == 0


def test_figures_are_cached_per_scope(campaign, rows, reviewers, django_assert_max_num_queries):
    first = stats.campaign_stats(campaign, reviewers.city.user)
    ApplicationFactory(campaign=campaign, status="pending_city")
    with django_assert_max_num_queries(2):
        again = stats.campaign_stats(campaign, reviewers.city.user)
    assert again == first
    district = stats.campaign_stats(campaign, reviewers.district_yuexiu.user)
    assert district["applications"] != first["applications"]


def test_a_reviewer_without_the_review_permission_does_not_get_the_scopes_cached_figures(
    campaign, rows, reviewers
):
    """Same unions, no review permission (a manager account): visible_to shows nothing, so the
    figures another reviewer of that scope cached are not theirs to see."""
    from tests.factories import ReviewerFactory

    full = stats.campaign_stats(campaign, reviewers.grassroots_a.user)
    assert full["applications"] > 0
    manager = ReviewerFactory(
        level="grassroots", unions=list(reviewers.grassroots_a.managed_unions.all())
    )
    manager.can_review = False
    manager.save()
    assert stats.campaign_stats(campaign, manager.user)["applications"] == 0


def test_aggregates_use_a_handful_of_queries(
    campaign, rows, reviewers, django_assert_max_num_queries
):
    # 9 aggregate queries (two of them the latency ranks) + 1 for the reviewer's subtree
    # union ids (the scoping door); a fixed number whatever the row count.
    with django_assert_max_num_queries(10):
        stats.compute(campaign, reviewers.district_yuexiu.user)


# --- pages, API, export ------------------------------------------------------------------


def test_api_returns_the_scope_figures(client, campaign, rows, reviewers):
    client.force_login(reviewers.district_yuexiu.user)
    r = client.get(f"/api/v1/campaigns/{campaign.pk}/stats/")
    assert r.status_code == 200
    body = r.json()
    assert body["scope"] == "union"
    assert [d["district"] for d in body["by_district"]] == ["越秀区总工会"]


def test_api_refuses_applicants_and_unknown_campaigns(client, campaign, rows, reviewers, member):
    assert client.get(f"/api/v1/campaigns/{campaign.pk}/stats/").status_code in (401, 403)
    client.force_login(member.user)
    r = client.get(f"/api/v1/campaigns/{campaign.pk}/stats/")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    client.force_login(reviewers.city.user)
    r = client.get("/api/v1/campaigns/999999/stats/")
    assert r.status_code == 404 and r.json()["detail"] == "未找到该批次"


def test_page_shows_progress_bars_and_tables(client, campaign, rows, reviewers):
    client.force_login(reviewers.city.user)
    r = client.get("/stats/", follow=True)
    assert r.status_code == 200
    html = r.content.decode()
    assert "申领人数 / 申领人数上限" in html and "市总工会审核通过 / 补助名额" in html
    assert 'id="table-district"' in html and "echarts.min.js" in html
    assert 'id="chart-district"' in html


def test_page_is_404_for_applicants(client, campaign, member):
    client.force_login(member.user)
    assert client.get(f"/stats/campaigns/{campaign.pk}/").status_code == 404


def test_xlsx_export_holds_the_tables(client, campaign, rows, reviewers):
    client.force_login(reviewers.district_yuexiu.user)
    r = client.get(f"/stats/campaigns/{campaign.pk}/export.xlsx")
    assert r.status_code == 200
    wb = load_workbook(BytesIO(r.content))
    assert {"概况", "各区按状态", "职工群体", "审核积压", "学历校核用时", "首日每小时提交"} <= set(
        wb.sheetnames
    )
    districts = [row[0].value for row in wb["各区按状态"].iter_rows(min_row=2)]
    assert districts == ["越秀区总工会"]


def test_expired_figures_are_served_stale_while_one_refresh_runs(
    campaign, rows, reviewers, monkeypatch
):
    from django.core.cache import cache

    from notifications import tasks

    user = reviewers.city.user
    first = stats.campaign_stats(campaign, user)
    key = stats.cache_key(campaign.pk, user)
    cache.delete(key)  # the 45 s are over
    ApplicationFactory(campaign=campaign, status="pending_city")
    queued = []
    monkeypatch.setattr(
        tasks.refresh_stats, "apply_async", lambda args, **options: queued.append(args)
    )
    assert stats.campaign_stats(campaign, user) == first  # stale, at once
    assert stats.campaign_stats(campaign, user) == first
    assert queued == [(campaign.pk, user.pk)]  # one refresh, not one per request
    tasks.refresh_stats(campaign.pk, user.pk)
    assert stats.campaign_stats(campaign, user)["applications"] == first["applications"] + 1


@pytest.mark.parametrize("count", [1, 2, 3, 7, 20])
def test_latency_ranks_equal_postgres_percentile_cont(campaign, tree, reviewers, count):
    """The median / p95 read by rank from the latency index equal what PostgreSQL's own
    percentile_cont computes over the same rows, for odd and even counts."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("percentile_cont is PostgreSQL's")
    start = campaign.opens_at
    for i in range(count):
        ApplicationFactory(
            campaign=campaign,
            member=MemberFactory(union=tree.a1),
            status="pending_grassroots",
            submitted_at=start + timedelta(minutes=i),
            registry_checked_at=start + timedelta(minutes=i, seconds=(i * 37) % 23 + 0.25 * i),
        )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP "
            "(ORDER BY EXTRACT(EPOCH FROM registry_checked_at - submitted_at)) "
            "FROM subsidy_application WHERE campaign_id = %s",
            [campaign.pk],
        )
        p50, p95 = cur.fetchone()[0]
    data = stats.compute(campaign, reviewers.city.user)
    assert data["registry_latency"]["checked"] == count
    assert data["registry_latency"]["median_seconds"] == round(float(p50), 1)
    assert data["registry_latency"]["p95_seconds"] == round(float(p95), 1)
