"""Payment (发放): ICBC batches, the bank's result file, corrections, ledger, reconciliation."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import tablib
from django.conf import settings
from django.utils import timezone
from openpyxl import load_workbook

from payouts.models import GrantLedger, PaymentBatch, PaymentFileDownload, PaymentResult
from payouts.services import payment
from payouts.services.allocation import allocate
from payouts.services.errors import PayoutError
from payouts.services.ledger import granted_year
from payouts.services.publication import publish
from payouts.services.reconciliation import reconcile_batch
from reviews.models import AuditRecord
from subsidy.models import Application, ApplicationStatus, Campaign
from tests.payouts.conftest import end_intake, luhn_account, make_app, statuses
from unions.pii import fernet

S = ApplicationStatus
pytestmark = pytest.mark.django_db


def _end_publication(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        published_at=timezone.now() - timedelta(days=campaign.publication_days, hours=1)
    )
    campaign.refresh_from_db()


@pytest.fixture
def paying(small_campaign, tree):
    """Quota 3, four approved applicants with their own accounts, published, period over."""
    apps = [
        make_app(small_campaign, tree.a1, m, bank_account=luhn_account(m)) for m in (10, 20, 30, 40)
    ]
    allocate(small_campaign)
    end_intake(small_campaign)
    publish(small_campaign.pk)
    _end_publication(small_campaign)
    return small_campaign, [Application.objects.get(pk=a.pk) for a in apps]


def result_file(rows):
    ds = tablib.Dataset(headers=["账号", "户名", "金额", "结果", "失败原因"])
    for r in rows:
        ds.append(r)
    return ds


def test_luhn_helper_makes_valid_accounts():
    from stdnum import luhn

    assert luhn.is_valid(luhn_account(7)) and not luhn.is_valid(luhn_account(7)[:-1] + "0")


def test_no_batch_before_the_publication_period_ends(small_campaign, tree):
    make_app(small_campaign, tree.a1, 1, bank_account=luhn_account(1))
    allocate(small_campaign)
    with pytest.raises(PayoutError) as exc:
        payment.create_batch(small_campaign.pk)
    assert exc.value.code == "list_not_published"
    end_intake(small_campaign)
    publish(small_campaign.pk)
    with pytest.raises(PayoutError) as exc:
        payment.create_batch(small_campaign.pk)
    assert exc.value.code == "publication_not_ended" and "公示结束后才能发放" in exc.value.message


def test_batch_has_every_funded_row_with_count_and_total(paying, city_user):
    campaign, apps = paying
    batch = payment.create_batch(campaign.pk, by=city_user)
    assert batch.item_count == 3
    assert batch.total_cny == Decimal("4500.00")
    assert sorted(batch.items.values_list("application_id", flat=True)) == sorted(
        a.pk for a in apps[:3]
    )
    assert all(c.ok for c in reconcile_batch(batch))
    # the waitlisted one is not paid; nothing left to pay → a second batch is refused
    with pytest.raises(PayoutError) as exc:
        payment.create_batch(campaign.pk)
    assert exc.value.code == "nothing_to_pay"


def test_batch_files_are_icbc_layout_written_once_and_downloads_logged(
    paying, city_user, city_client
):
    campaign, apps = paying
    batch = payment.create_batch(campaign.pk, by=city_user)
    csv_path = settings.PRIVATE_MEDIA_ROOT / batch.csv_path
    xlsx_path = settings.PRIVATE_MEDIA_ROOT / batch.xlsx_path
    # encrypted at rest: no account number readable on disk
    for path in (csv_path, xlsx_path):
        assert path.name.endswith(".enc") and apps[0].bank_account.encode() not in path.read_bytes()
    csv_plain = fernet().decrypt(csv_path.read_bytes())
    text = csv_plain.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["账号", "户名", "金额", "开户支行", "备注"]
    assert rows[1] == [
        apps[0].bank_account,
        apps[0].name,
        "1500.00",
        apps[0].bank_branch,
        f"{campaign.year}年职工学历教育补助",
    ]
    wb = load_workbook(io.BytesIO(fernet().decrypt(xlsx_path.read_bytes())))
    ws = wb.active
    assert [c.value for c in ws[1]] == ["账号", "户名", "金额", "开户支行", "备注"]
    assert ws.cell(2, 1).value == apps[0].bank_account  # text, not a float
    assert ws.cell(2, 3).value == 1500 and ws.cell(2, 3).number_format == "0.00"
    assert ws.max_row == 4

    r = city_client.get(f"/payouts/batches/{batch.pk}/download/csv/")
    assert r.status_code == 200 and r.content == csv_plain
    assert r["Content-Disposition"].endswith('.csv"')  # the bank's file name, not .enc
    assert city_client.get(f"/payouts/batches/{batch.pk}/download/xlsx/").status_code == 200
    logs = PaymentFileDownload.objects.filter(batch=batch)
    assert sorted(logs.values_list("file_format", flat=True)) == ["csv", "xlsx"]
    assert all(d.user_id == city_user.pk for d in logs)

    # never regenerated: a changed file is refused, not rewritten
    csv_path.write_bytes(b"tampered")
    r = city_client.get(f"/payouts/batches/{batch.pk}/download/csv/", follow=True)
    assert "发放文件校验失败" in r.content.decode()
    assert csv_path.read_bytes() == b"tampered"
    assert PaymentFileDownload.objects.filter(batch=batch).count() == 2


def test_batch_pages_are_city_only_and_show_masked_accounts(paying, city_user, client, reviewers):
    campaign, apps = paying
    batch = payment.create_batch(campaign.pk, by=city_user)
    client.force_login(reviewers.district_yuexiu.user)
    assert client.get(f"/payouts/batches/{batch.pk}/download/csv/").status_code == 404
    assert not PaymentFileDownload.objects.exists()
    client.force_login(city_user)
    html = client.get(f"/payouts/batches/{batch.pk}/").content.decode()
    assert apps[0].bank_account not in html and "****" + apps[0].bank_account[-4:] in html


def test_result_import_marks_paid_and_failed_and_fills_the_ledger(paying, city_user):
    campaign, apps = paying
    batch = payment.create_batch(campaign.pk, by=city_user)
    outcome = payment.import_result(
        batch.pk,
        result_file(
            [
                [apps[0].bank_account, apps[0].name, "1500.00", "成功", ""],
                [apps[1].bank_account, apps[1].name, "1500.00", "失败", "户名与账号不符"],
                [apps[2].bank_account, apps[2].name, "1500", "成功", ""],
            ]
        ),
        by=city_user,
    )
    assert outcome.ok, outcome.errors
    assert (outcome.paid, outcome.failed) == (2, 1)
    st = statuses(campaign)
    assert (st[apps[0].pk], st[apps[1].pk], st[apps[2].pk]) == (S.PAID, S.PAYMENT_FAILED, S.PAID)
    assert Application.objects.get(pk=apps[1].pk).payment_failure_reason == "户名与账号不符"
    ledger = GrantLedger.objects.order_by("application_id")
    assert [(g.application_id, g.year, g.amount_cny) for g in ledger] == [
        (apps[0].pk, campaign.year, Decimal("1500.00")),
        (apps[2].pk, campaign.year, Decimal("1500.00")),
    ]
    assert granted_year(apps[0].id_hmac) == campaign.year
    assert all(c.ok for c in reconcile_batch(batch))


def test_a_failure_reason_quoting_the_account_is_stored_masked(paying, city_user):
    """The bank's failure text is shown to city staff and the applicant and notified: the
    account it quotes is kept as ****1234."""
    campaign, apps = paying
    batch = payment.create_batch(campaign.pk, by=city_user)
    account = apps[1].bank_account
    outcome = payment.import_result(
        batch.pk,
        result_file(
            [
                [apps[0].bank_account, apps[0].name, "1500.00", "成功", ""],
                [account, apps[1].name, "1500.00", "失败", f"账户 {account} 已销户"],
                [apps[2].bank_account, apps[2].name, "1500.00", "成功", ""],
            ]
        ),
        by=city_user,
    )
    assert outcome.ok, outcome.errors
    stored = Application.objects.get(pk=apps[1].pk).payment_failure_reason
    assert stored == f"账户 ****{account[-4:]} 已销户"
    assert batch.items.get(application_id=apps[1].pk).failure_reason == stored


def test_result_file_with_bad_rows_reports_each_and_applies_nothing(paying, city_user, tree):
    campaign, apps = paying
    batch = payment.create_batch(campaign.pk, by=city_user)
    waitlisted = apps[3]  # a real applicant's account that is not in this batch
    outcome = payment.import_result(
        batch.pk,
        result_file(
            [
                [apps[0].bank_account, apps[0].name, "1500.00", "成功", ""],
                [luhn_account(999), "路人甲", "1500.00", "成功", ""],
                [apps[1].bank_account, apps[1].name, "1000.00", "成功", ""],
                [apps[0].bank_account, apps[0].name, "1500.00", "成功", ""],
                [waitlisted.bank_account, waitlisted.name, "1500.00", "成功", ""],
                [apps[2].bank_account, apps[2].name, "1500.00", "失败", ""],
            ]
        ),
        by=city_user,
    )
    assert not outcome.ok
    codes = [(e["row"], e["code"]) for e in outcome.errors]
    assert codes == [
        (3, "unknown_account"),
        (4, "wrong_amount"),
        (5, "duplicate_row"),
        (6, "not_in_batch"),
        (7, "reason_required"),
    ]
    details = " ".join(e["detail"] for e in outcome.errors)
    assert "第 4 行：" in details and "与应发金额 1500.00 不符" in details
    assert apps[0].bank_account not in details  # accounts masked in errors
    # nothing applied, not even the good first row
    assert all(s == S.FUNDED for pk, s in statuses(campaign).items() if pk != waitlisted.pk)
    assert not GrantLedger.objects.exists()
    assert batch.items.filter(result=PaymentResult.PENDING).count() == 3


def test_failed_payment_is_paid_in_a_second_batch_after_account_correction(
    paying, city_user, city_client
):
    campaign, apps = paying
    first = payment.create_batch(campaign.pk, by=city_user)
    rows = [[a.bank_account, a.name, "1500.00", "成功", ""] for a in apps[:2]]
    rows.append([apps[2].bank_account, apps[2].name, "1500.00", "失败", "账户已销户"])
    assert payment.import_result(first.pk, result_file(rows), by=city_user).ok
    # no correction yet → nothing to pay
    with pytest.raises(PayoutError):
        payment.create_batch(campaign.pk, by=city_user)
    # bad correction input → Chinese message, nothing changed
    r = city_client.post(
        f"/payouts/applications/{apps[2].pk}/account/",
        {"account": "12345", "reason": "本人提供新卡"},
        follow=True,
    )
    assert "银行账号应为 16–19 位数字" in r.content.decode()
    new_account = luhn_account(555)
    r = city_client.post(
        f"/payouts/applications/{apps[2].pk}/account/",
        {"account": new_account, "branch": "广州越秀支行", "reason": "本人提供新卡"},
        follow=True,
    )
    html = r.content.decode()
    assert "已更正银行账号" in html and new_account not in html
    app = Application.objects.get(pk=apps[2].pk)
    assert app.bank_account == new_account
    assert AuditRecord.objects.filter(application=app, transition="correct_account").exists()
    second = payment.create_batch(campaign.pk, by=city_user)
    assert second.number == 2 and second.item_count == 1
    assert second.items.get().account == new_account
    outcome = payment.import_result(
        second.pk,
        result_file([[new_account, app.name, "1500.00", "成功", ""]]),
        by=city_user,
    )
    assert outcome.ok
    assert statuses(campaign)[app.pk] == S.PAID
    assert GrantLedger.objects.filter(application=app).count() == 1
    assert GrantLedger.objects.count() == 3
    assert all(c.ok for c in reconcile_batch(first)) and all(c.ok for c in reconcile_batch(second))


def test_result_cannot_be_imported_twice(paying, city_user):
    campaign, apps = paying
    batch = payment.create_batch(campaign.pk, by=city_user)
    rows = [[a.bank_account, a.name, "1500.00", "成功", ""] for a in apps[:3]]
    assert payment.import_result(batch.pk, result_file(rows), by=city_user).ok
    again = payment.import_result(batch.pk, result_file(rows[:1]), by=city_user)
    assert [e["code"] for e in again.errors] == ["already_imported"]
    assert GrantLedger.objects.count() == 3


def test_reconciliation_shows_a_mismatch(paying, city_user, city_client):
    campaign, apps = paying
    batch = payment.create_batch(campaign.pk, by=city_user)
    rows = [[a.bank_account, a.name, "1500.00", "成功", ""] for a in apps[:3]]
    assert payment.import_result(batch.pk, result_file(rows), by=city_user).ok
    GrantLedger.objects.filter(application=apps[0]).delete()  # someone tampers with the ledger
    PaymentBatch.objects.filter(pk=batch.pk).update(total_cny=Decimal("4000.00"))
    batch.refresh_from_db()
    bad = {c.label for c in reconcile_batch(batch) if not c.ok}
    assert "成功笔数 = 台账新增笔数" in bad
    assert "明细金额合计 = 批次记录总金额" in bad
    html = city_client.get(f"/payouts/batches/{batch.pk}/").content.decode()
    assert "不符" in html
    assert "项不符" in city_client.get(f"/payouts/?campaign={campaign.pk}").content.decode()


def test_paid_grant_already_in_the_ledger_is_refused(paying, city_user):
    campaign, apps = paying
    GrantLedger.objects.create(
        id_hmac=apps[0].id_hmac,
        name=apps[0].name,
        year=2022,
        amount_cny="1500.00",
        source="import",
    )
    batch = payment.create_batch(campaign.pk, by=city_user)
    outcome = payment.import_result(
        batch.pk,
        result_file([[apps[0].bank_account, apps[0].name, "1500.00", "成功", ""]]),
        by=city_user,
    )
    assert [e["code"] for e in outcome.errors] == ["already_granted"]
    assert "2022 年" in outcome.errors[0]["detail"]


def test_shared_account_blocks_the_batch(small_campaign, tree):
    same = luhn_account(42)
    make_app(small_campaign, tree.a1, 1, bank_account=same)
    make_app(small_campaign, tree.a1, 2, bank_account=same)
    allocate(small_campaign)
    end_intake(small_campaign)
    publish(small_campaign.pk)
    _end_publication(small_campaign)
    with pytest.raises(PayoutError) as exc:
        payment.create_batch(small_campaign.pk)
    assert exc.value.code == "shared_account" and same not in exc.value.message
    assert not PaymentBatch.objects.exists()


def test_import_result_page_shows_row_errors(paying, city_user, city_client):
    campaign, apps = paying
    batch = payment.create_batch(campaign.pk, by=city_user)
    content = "账号,户名,金额,结果,失败原因\n" + f"{apps[0].bank_account},{apps[0].name},99,成功,\n"
    upload = io.BytesIO(content.encode("gb18030"))
    upload.name = "result.csv"
    r = city_client.post(f"/payouts/batches/{batch.pk}/result/", {"file": upload}, follow=True)
    html = r.content.decode()
    assert "未导入任何记录" in html and "第 2 行" in html and "不符" in html
    assert statuses(campaign)[apps[0].pk] == S.FUNDED


def test_create_batch_button(paying, city_client):
    campaign, _ = paying
    r = city_client.post(f"/payouts/campaigns/{campaign.pk}/batches/", follow=True)
    assert "已生成" in r.content.decode() and "共 4500.00 元" in r.content.decode()


@pytest.mark.parametrize("funded", [2, 6])
def test_batch_creation_runs_a_fixed_number_of_queries(
    small_campaign, tree, funded, django_assert_num_queries
):
    """No per-row query: loading a row never reloads its state (django-fsm reads `status`
    when a row is loaded; `only()` keeps it loaded), whatever the batch size."""
    Campaign.objects.filter(pk=small_campaign.pk).update(quota=funded)
    small_campaign.refresh_from_db()
    for m in range(funded):
        make_app(small_campaign, tree.a1, m + 1, bank_account=luhn_account(m + 1))
    allocate(small_campaign)
    end_intake(small_campaign)
    publish(small_campaign.pk)
    _end_publication(small_campaign)
    with django_assert_num_queries(10):
        batch = payment.create_batch(small_campaign.pk)
    assert batch.item_count == funded


def test_only_and_defer_always_load_the_status():
    fields, deferring = Application.objects.only("name").query.deferred_loading
    assert deferring is False and "status" in fields  # "load only these" includes status
    fields, deferring = Application.objects.defer("status", "name").query.deferred_loading
    assert deferring is True and fields == {"name"}  # "leave these out" never leaves status


def test_odd_result_files_and_correction_input_get_messages_not_500s(
    paying, city_user, city_client
):
    """Found by fuzzing: an amount of "sNaN", a NUL in the bank's reason, a NUL or a
    5000-character branch in the account correction."""
    campaign, apps = paying
    batch = payment.create_batch(campaign.pk, by=city_user)
    row = [apps[0].bank_account, apps[0].name, "sNaN", "成功", ""]
    outcome = payment.import_result(batch.pk, result_file([row]), by=city_user)
    assert [e["code"] for e in outcome.errors] == ["wrong_amount"]
    rows = [[a.bank_account, a.name, "1500.00", "成功", ""] for a in apps[:2]]
    rows.append([apps[2].bank_account, apps[2].name, "1500.00", "失败", "户名\x00不符"])
    assert payment.import_result(batch.pk, result_file(rows), by=city_user).ok
    failed = Application.objects.get(pk=apps[2].pk)
    assert failed.status == ApplicationStatus.PAYMENT_FAILED
    for data, message in (
        ({"account": luhn_account(556), "branch": "x\x00", "reason": "ok"}, "无法识别的字符"),
        ({"account": luhn_account(556), "branch": "支" * 5000, "reason": "ok"}, "不超过 100 字"),
        ({"account": "²" * 19, "reason": "ok"}, "银行账号校验位不正确"),
        ({"account": "6222-0212", "reason": "ok"}, "银行账号应为 16–19 位数字"),
        ({"account": "", "reason": "ok"}, "请填写银行账号"),
    ):
        r = city_client.post(f"/payouts/applications/{failed.pk}/account/", data, follow=True)
        assert r.status_code == 200 and message in r.content.decode()
    assert Application.objects.get(pk=failed.pk).bank_account == failed.bank_account


def test_admin_imports_offer_spreadsheets_only():
    from django.contrib import admin

    from payouts.models import GrantLedger
    from subsidy.models import BankBin

    for model in (GrantLedger, BankBin):
        formats = admin.site._registry[model].get_import_formats()
        assert {f.__name__ for f in formats} == {"CSV", "XLSX"}


def test_a_result_file_far_longer_than_the_batch_is_refused_at_once(paying, city_user):
    campaign, apps = paying
    batch = payment.create_batch(campaign.pk, by=city_user)
    rows = [[luhn_account(1000 + i), "路人", "1500.00", "成功", ""] for i in range(200)]
    outcome = payment.import_result(batch.pk, result_file(rows), by=city_user)
    assert [e["code"] for e in outcome.errors] == ["too_many_rows"]
    assert batch.items.filter(result=PaymentResult.PENDING).count() == batch.item_count
