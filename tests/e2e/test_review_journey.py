"""The review journey in Chromium: a grassroots reviewer signs in on a phone with an SMS code
(read from the file SMS backend), filters, opens an application, ticks 确认在职职工 and
approves; a district reviewer signs in with a password and rejects another with a reason;
then the rejected applicant signs in on a phone and reads the reason on the progress page.
Screenshots of each screen go to tests/e2e/screenshots/review-*.png."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from reviews.models import AuditRecord
from subsidy.models import Application
from tests.factories import ApplicationFactory, MemberFactory, ReviewerFactory

SHOTS = Path(__file__).resolve().parent / "screenshots"
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"review-{name}.png"), full_page=True)


def _latest_code(sms_dir: Path, phone: str) -> str:
    files = sorted(sms_dir.glob("*.txt"), key=lambda p: p.stat().st_mtime)
    for f in reversed(files):
        text = f.read_text(encoding="utf-8")
        if phone in text:
            return re.search(r"验证码为 (\d{6})", text).group(1)
    raise AssertionError("no SMS for " + phone)


def test_grassroots_approves_on_a_phone_and_district_rejects_with_a_reason(
    live_server, browser, settings, tmp_path, tree, campaign
):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    ReviewerFactory(level="grassroots", unions=[tree.a1], name="李基层", phone="13800000001")
    district = ReviewerFactory(level="district", unions=[tree.yuexiu], name="王区总")
    district.user.email = "yuexiu@demo.gz"
    district.user.set_password("demo-district-2024")
    district.user.save()

    def app(union, name, status="pending_grassroots", group="none"):
        return ApplicationFactory(
            campaign=campaign,
            member=MemberFactory(union=union, name=name),
            status=status,
            worker_group=group,
            registry_record={"institution": "广东开放大学", "major": "机械设计制造及其自动化"},
        )

    target = app(tree.a1, "张小明", group="manufacturing")
    app(tree.a1, "陈一")
    app(tree.a1, "黄二", status="pending_district")
    to_reject = app(tree.a2, "刘三", status="pending_district")
    to_reject.member.mobile = "13900000033"
    to_reject.member.user = None
    to_reject.member.save()

    # --- grassroots reviewer, phone viewport ----------------------------------------------
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    page.goto(f"{live_server.url}/review/login/")
    _shot(page, "01-login-otp-phone")
    page.fill("input[name=phone]", "13800000001")
    page.click("button[value=send]")
    page.wait_for_selector("text=验证码已发送")
    page.fill("input[name=code]", _latest_code(tmp_path / "sms", "13800000001"))
    page.click("button[value=verify]")
    page.wait_for_url(f"{live_server.url}/review/")
    _shot(page, "02-queue-phone")
    page.select_option("select[name=status]", "pending_grassroots")
    expect(page.locator("#queue tbody tr")).to_have_count(2)
    assert "黄二" not in page.inner_text("#queue")
    _shot(page, "03-queue-filtered-phone")
    page.click("#queue >> text=张小明")
    page.wait_for_selector("#decision")
    assert "机械设计制造及其自动化" in page.content()
    _shot(page, "04-detail-phone")
    page.check("#confirm_employed")
    page.check("input[name=decision][value=approve]")
    _shot(page, "05-decision-phone")
    page.click("#submit-decision")
    page.wait_for_selector("text=已审核通过")
    _shot(page, "06-approved-phone")
    assert Application.objects.get(pk=target.pk).status == "pending_district"
    phone.close()

    # --- district reviewer, desktop, password ---------------------------------------------
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    page.goto(f"{live_server.url}/review/login/?tab=password")
    _shot(page, "07-login-password")
    page.fill("input[name=identifier]", "yuexiu@demo.gz")
    page.fill("input[name=password]", "demo-district-2024")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/review/")
    _shot(page, "08-queue-district")
    page.fill("input[name=q]", "刘三")
    page.press("input[name=q]", "Enter")
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    page.click("#queue >> text=刘三")
    page.wait_for_selector("#decision")
    page.check("input[name=decision][value=reject]")
    page.fill("textarea[name=reason]", "所学专业与单位工作岗位不符")
    _shot(page, "09-reject-district")
    page.click("#submit-decision")
    page.wait_for_selector("text=已审核不通过")
    _shot(page, "10-after-reject-district")
    page.goto(f"{live_server.url}/review/applications/{to_reject.pk}/")
    _shot(page, "11-history-district")
    desk.close()

    rejected = Application.objects.get(pk=to_reject.pk)
    assert rejected.status == "district_rejected"
    # What the applicant is shown: the stored reason and the audit record carrying it.
    assert rejected.rejection_reason == "所学专业与单位工作岗位不符"
    record = AuditRecord.objects.get(application=rejected)
    assert (record.to_status, record.reason, record.actor) == (
        "district_rejected",
        "所学专业与单位工作岗位不符",
        district.user,
    )

    # --- the applicant, on a phone: the reason is on the progress page ----------------------
    mobile = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = mobile.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_phone", "13900000033")
    page.click("#btn-send")
    page.wait_for_selector("#id_code")
    page.fill("#id_code", _latest_code(tmp_path / "sms", "13900000033"))
    page.click("#btn-login")
    page.wait_for_url("**/apply/")
    page.goto(f"{live_server.url}/apply/progress/")
    expect(page.locator("body")).to_contain_text("所学专业与单位工作岗位不符")
    expect(page.locator("body")).to_contain_text("区总工会，产业、直属单位工会审核不通过")
    _shot(page, "12-applicant-progress-phone")
    mobile.close()
