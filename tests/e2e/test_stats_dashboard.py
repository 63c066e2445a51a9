"""The statistics dashboards in Chromium: the city one draws its charts, a district one shows
only its own figures."""

from datetime import datetime, time, timedelta

import pytest
from django.conf import settings as dj_settings
from django.test import Client
from django.utils import timezone

from tests.factories import ApplicationFactory, MemberFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls here are not async.

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

APPROVED = {"approved", "funded", "paid"}
SHOTS = dj_settings.BASE_DIR / "tests" / "e2e" / "screenshots"


def _login(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[dj_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def dashboard_data(campaign, tree, reviewers):
    plan = [
        (tree.a1, "pending_grassroots", 5),
        (tree.a2, "pending_district", 3),
        (tree.a1, "approved", 2),
        (tree.b1, "pending_city", 4),
        (tree.b1, "funded", 6),
        (tree.i1, "paid", 1),
    ]
    day = timezone.localtime(campaign.opens_at).date()
    start = timezone.make_aware(datetime.combine(day, time(10, 0)))
    i = 0
    for union, status, n in plan:
        for _ in range(n):
            i += 1
            ApplicationFactory(
                campaign=campaign,
                member=MemberFactory(union=union),
                status=status,
                submitted_at=start + timedelta(minutes=13 * i),
                city_approved_at=timezone.now() if status in APPROVED else None,
            )
    return plan


def _canvas_has_bars(page, selector):
    """Count coloured (non-white, non-grey) pixels on the chart's canvas."""
    return page.evaluate(
        """(sel) => {
            const c = document.querySelector(sel + ' canvas');
            if (!c) return 0;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) {
              const [r, g, b, a] = [d[i], d[i+1], d[i+2], d[i+3]];
              if (a > 0 && (Math.max(r, g, b) - Math.min(r, g, b)) > 60) n++;
            }
            return n;
        }""",
        selector,
    )


def test_city_dashboard_renders_its_charts(page, live_server, campaign, reviewers, dashboard_data):
    _login(page, live_server, reviewers.city.user)
    page.set_viewport_size({"width": 1280, "height": 1600})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/stats/")
    page.wait_for_selector("#chart-district[data-rendered='1'] canvas")
    assert errors == []
    assert page.inner_text("#applications-count") == "21"
    rows = page.locator("#table-district tbody tr")
    assert rows.count() == 3
    for chart in ("#chart-district", "#chart-status", "#chart-hours", "#chart-group"):
        assert _canvas_has_bars(page, chart) > 200, chart
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "stats-city.png"), full_page=True)


def test_district_dashboard_shows_only_its_own_figures(
    page, live_server, campaign, reviewers, dashboard_data
):
    _login(page, live_server, reviewers.district_yuexiu.user)
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.goto(f"{live_server.url}/stats/campaigns/{campaign.pk}/")
    page.wait_for_selector("#chart-district[data-rendered='1'] canvas")
    assert page.inner_text("#applications-count") == "10"  # 5 + 3 + 2 in 越秀
    districts = page.locator("#table-district tbody tr td:first-child").all_inner_texts()
    assert districts == ["越秀区总工会"]
    body = page.inner_text("body")
    assert "海珠区总工会" not in body and "广州市交通运输工会" not in body
    assert page.inner_text("#approvals-count") == "2"
    page.screenshot(path=str(SHOTS / "stats-district.png"), full_page=True)
