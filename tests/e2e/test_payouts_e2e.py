"""e2e (Chromium): city staff allocate, try to publish while review is in progress and read why
(R8), publish once the city's deadline has passed, the public sees the masked list, and after
the publication period a payment batch is created and its XLSX downloaded (and logged)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from payouts.models import PaymentFileDownload
from subsidy.models import Application, ApplicationStatus, Campaign
from tests.payouts.conftest import luhn_account, make_app

SHOTS = Path(__file__).parent / "screenshots"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(context, live_server, user):
    c = Client()
    c.force_login(user)
    cookie = c.cookies["sessionid"]
    context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_city_staff_allocate_publish_public_list_and_batch(
    live_server, browser, campaign, tree, reviewers
):
    SHOTS.mkdir(exist_ok=True)
    campaign.quota = 2
    campaign.save()
    names = ["欧阳小明", "张明", "李小龙"]
    for minute, name in zip((10, 20, 30), names, strict=True):
        app = make_app(campaign, tree.a1, minute, bank_account=luhn_account(minute))
        Application.objects.filter(pk=app.pk).update(name=name)
    # still waiting at a grassroots union (intake has closed by itself: quota reached, R4)
    make_app(campaign, tree.a2, 40, status=ApplicationStatus.PENDING_GRASSROOTS)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    _login(context, live_server, reviewers.city.user)
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{live_server.url}/payouts/")
    page.click("#btn-allocate")
    page.wait_for_selector("text=名额分配完成")
    assert page.inner_text("#quota-used") == "2"
    assert page.inner_text("#waitlist-length") == "1"
    page.screenshot(path=str(SHOTS / "payouts_allocated.png"), full_page=True)

    # too early: one row at grassroots → refused, and the page says why
    readiness = page.inner_text("#publish-readiness")
    assert "暂不能公示" in readiness and "待基层工会审核 1 件" in readiness
    page.click("#btn-publish")
    page.wait_for_selector("text=审核尚未结束，暂不能公示")
    flash = page.inner_text("main")
    assert "待基层工会审核 1 件" in flash and "申领通道仍开放" not in flash
    page.screenshot(path=str(SHOTS / "payouts_publish_refused.png"), full_page=True)
    campaign.refresh_from_db()
    assert campaign.published_at is None

    # the city's review deadline passes: the pending row stays out, the list can be published
    Campaign.objects.filter(pk=campaign.pk).update(
        closes_at=timezone.now() - timedelta(days=3),
        city_review_until=timezone.now() - timedelta(minutes=1),
    )
    page.reload()
    assert "不列入本次名单" in page.inner_text("#publish-readiness")
    page.click("#btn-publish")
    page.wait_for_selector("text=名单已公示")
    assert "公示中" in page.inner_text("#public-state")

    public = browser.new_context(viewport={"width": 414, "height": 800}, locale="zh-CN")
    p = public.new_page()
    p.goto(f"{live_server.url}/public/")
    p.wait_for_selector("#grantees")
    text = p.inner_text("#grantees")
    assert "欧阳*明" in text and "张*" in text and "李*龙" not in text  # 3rd is waitlisted
    assert "欧阳小明" not in p.content()
    p.screenshot(path=str(SHOTS / "public_list.png"), full_page=True)

    # the publication period ends → the public page says so, payment opens
    Campaign.objects.filter(pk=campaign.pk).update(
        published_at=timezone.now() - timedelta(days=campaign.publication_days, hours=1)
    )
    p.reload()
    assert "公示期已结束" in p.inner_text("main")

    page.goto(f"{live_server.url}/payouts/")
    page.click("#btn-batch")
    page.wait_for_selector("text=已生成")
    page.click("#batches a >> nth=0")
    page.wait_for_selector("#reconciliation")
    with page.expect_download() as dl:
        page.click("#dl-xlsx")
    download = dl.value
    target = SHOTS.parent / "tmp-batch.xlsx"
    download.save_as(str(target))
    from openpyxl import load_workbook

    ws = load_workbook(target).active
    assert [c.value for c in ws[1]] == ["账号", "户名", "金额", "开户支行", "备注"]
    assert ws.max_row == 3
    target.unlink()
    assert PaymentFileDownload.objects.filter(file_format="xlsx").count() == 1
    page.reload()
    page.screenshot(path=str(SHOTS / "payouts_batch.png"), full_page=True)
    context.close()
    public.close()
