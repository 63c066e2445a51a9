"""The browser harness stands: Chromium opens the live server's home page in Chinese."""

import pytest

from tests.factories import CampaignFactory


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_home_page_shows_its_chinese_title(live_server, page, screenshot_dir):
    campaign = CampaignFactory()
    page.goto(live_server.url + "/")
    assert page.title().startswith("求学圆梦")
    assert campaign.title in page.content()
    page.screenshot(path=str(screenshot_dir / "home.png"), full_page=True)
    assert (screenshot_dir / "home.png").stat().st_size > 10_000
