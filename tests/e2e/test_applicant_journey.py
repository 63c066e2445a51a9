"""The applicant's whole journey in Chromium on a phone-sized viewport (390 × 844):
sign in with the code from the file SMS backend, pass the entry check, fill the form with a
photo, see the warning for a certificate number with a space, submit, see the progress page.
Screenshots of each step go to tests/e2e/screenshots/."""

import importlib
import re
from pathlib import Path

import pytest

from subsidy.models import FAQ, Application, BankBin
from tests.factories import CampaignFactory, CommitmentFactory, MemberFactory
from tests.subsidy.conftest import ICBC_DEBIT, image_bytes

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
# ordinary synchronous code.

SHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
        "locale": "zh-CN",
    }


def shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"applicant-{name}.png"), full_page=True)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_applicant_journey(live_server, page, settings, tmp_path, tree):
    sms_dir = tmp_path / "sms"
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(sms_dir)
    CommitmentFactory(
        text="本人自愿申领广州市总工会职工学历教育补助，并郑重承诺：\n"
        "一、本人所填报的资料真实、准确、完整。\n二、银行账户为本人名下的中国工商银行借记卡。"
    )
    CampaignFactory(year=2024)  # the demo's campaign (its window is open now)
    # The FAQ as the migration loads it (a live-server test after another one finds the
    # database emptied; the first one of a run finds the migration's rows).
    reference = importlib.import_module("subsidy.migrations.0003_reference_data")
    if not FAQ.objects.exists():
        FAQ.objects.bulk_create(
            FAQ(position=i, question=q, answer=a) for i, (q, a) in enumerate(reference.FAQS)
        )
    BankBin.objects.get_or_create(bin="622202", bank="ICBC", card_type="DC", length=19)
    member = MemberFactory(union=tree.a1, name="李晓明", mobile="13900000001", user=None)
    card = tmp_path / "card.jpg"
    card.write_bytes(image_bytes("JPEG", size=(856, 540), color=(180, 20, 40)))

    # 1. sign in with the code the file backend wrote
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_phone", "13900000001")
    shot(page, "1-login")
    page.click("#btn-send")
    page.wait_for_selector("#id_code")
    message = next(sms_dir.glob("*.txt")).read_text(encoding="utf-8")
    assert "13900000001" in message
    code = re.search(r"\d{6}", message.split("\n", 2)[-1]).group(0)
    page.fill("#id_code", code)
    shot(page, "2-code")
    page.click("#btn-login")

    # 2. the entry check passes
    page.wait_for_url("**/apply/")
    assert page.is_visible("#eligible")
    shot(page, "3-entry-check")
    page.click("#btn-start")

    # 3. the form, with a photo and a certificate number with a space
    page.wait_for_url("**/apply/form/")
    page.check("#id_confirm_identity")
    page.click("label[for=id_kind_1]")  # 高等教育自学考试毕业
    assert page.inner_text("#number-label") == "毕业证书编号"
    page.fill("#id_study_number", "144011 202405000123")
    page.click("label[for=id_worker_group_2]")
    page.click("label[for=id_hukou_0]")
    page.fill("#id_job_position", "数控车床操作工")
    page.fill("#id_bank_account", ICBC_DEBIT)
    page.fill("#id_bank_branch", "中国工商银行广州天河支行")
    assert page.inner_text("label[for=id_card_photo]") == "拍照或选择照片"  # not the browser's
    assert page.inner_text("#photo-name") == "未选择照片"
    page.set_input_files("#id_card_photo", str(card))
    assert page.inner_text("#photo-name") == card.name
    page.wait_for_selector("#photo-preview", state="visible")  # once the picture has loaded
    page.fill("#id_union_contact_phone", "020-83001234")
    page.check("#id_accept_commitment")
    assert page.is_visible("#number-warning")
    assert "编号中含有空格" in page.inner_text("#number-warning")
    shot(page, "4-form-warning")

    # 4. submit is held back by the warning until the number is fixed
    page.click("#btn-submit")
    page.wait_for_timeout(300)
    assert "/apply/form/" in page.url and Application.objects.count() == 0
    page.fill("#id_study_number", "144011202405000123")
    assert page.is_hidden("#number-warning")
    shot(page, "5-form-fixed")
    page.click("#btn-submit")

    # 5. the progress page
    page.wait_for_url("**/apply/progress/")
    assert "待学历接口校核" in page.inner_text("body")
    assert page.is_visible("#queue-position")
    body = page.inner_text("body")
    assert "咨询电话" in body and tree.yuexiu.hotline in body  # the district's hotline
    page.click("details.faq summary")  # 一问一答, opened
    assert page.locator("details.faq .q").all_inner_texts() == [q for q, _ in reference.FAQS]
    assert page.inner_text("h1") == "申领进度" and "2024 年 · 第 1 次申领" in body
    shot(page, "6-progress")
    app = Application.objects.get(member=member)
    assert app.kind == "self_study" and app.study_number == "144011202405000123"
    assert app.bank_card_photo
