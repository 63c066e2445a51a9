"""The lifetime ledger (R5): historical import (all or nothing) and the already-granted look-up."""

import pytest
import tablib
from django.core.management import CommandError, call_command

from payouts.models import GrantLedger
from payouts.services.ledger import LedgerResource, granted_year, import_ledger
from subsidy.models import ApplicationStatus
from tests.payouts.conftest import make_app
from tests.payouts.conftest import valid_id_number as make_id_number
from unions.pii import blind_index

S = ApplicationStatus
pytestmark = pytest.mark.django_db


def dataset(rows):
    ds = tablib.Dataset(headers=["姓名", "身份证号码", "年度", "金额"])
    for r in rows:
        ds.append(r)
    return ds


def test_import_stores_only_blind_index_and_name():
    id1, id2 = make_id_number(), make_id_number()
    outcome = import_ledger(dataset([["张三", id1, "2022", "1500.00"], ["李四", id2, 2023, 1500]]))
    assert outcome.ok and outcome.imported == 2
    row = GrantLedger.objects.get(name="张三")
    assert (row.year, row.source, row.id_hmac) == (2022, "import", blind_index(id1))
    assert id1 not in str(GrantLedger.objects.values_list())
    assert granted_year(blind_index(id2)) == 2023


def test_one_bad_row_means_per_row_errors_and_nothing_saved():
    good = make_id_number()
    bad_checksum = good[:-1] + ("0" if good[-1] != "0" else "1")
    outcome = import_ledger(
        dataset(
            [
                ["张三", good, "2022", "1500.00"],
                ["李四", bad_checksum, "2022", "1500.00"],
                ["", make_id_number(), "1999", "-5"],
                ["王五", good, "2021", "1500.00"],
            ]
        )
    )
    assert not outcome.ok
    text = "\n".join(outcome.errors)
    assert "第 2 行 身份证号码：身份证号码校验位错误，请核对" in text
    assert "第 3 行 姓名：请填写姓名" in text
    assert "第 3 行 年度" in text and "第 3 行 金额" in text
    assert "第 4 行 身份证号码：与第 1 行重复" in text
    assert bad_checksum not in text
    assert not GrantLedger.objects.exists()


def test_a_person_already_in_the_ledger_is_refused():
    id1 = make_id_number()
    assert import_ledger(dataset([["张三", id1, "2022", "1500"]])).ok
    outcome = import_ledger(dataset([["张三", id1, "2023", "1500"]]))
    assert outcome.errors == [
        "第 1 行 身份证号码：该身份证号码已有补助发放记录（每人只可享受一次）"
    ]
    assert GrantLedger.objects.count() == 1


def test_missing_columns_are_named():
    ds = tablib.Dataset(headers=["姓名", "年度"])
    ds.append(["张三", "2022"])
    assert import_ledger(ds).errors == ["缺少列：身份证号码、金额"]


def test_granted_year_sees_funded_applications_of_other_campaigns(campaign, tree):
    from tests.factories import CampaignFactory

    old = CampaignFactory(year=campaign.year - 1)
    app = make_app(old, tree.a1, 1, status=S.FUNDED)
    assert granted_year(app.id_hmac) == old.year
    assert granted_year(app.id_hmac, exclude_campaign=old) is None
    assert granted_year(blind_index(make_id_number())) is None


def test_import_ledger_command(tmp_path, capsys):
    good = tmp_path / "ok.csv"
    good.write_text(f"姓名,身份证号码,年度,金额\n张三,{make_id_number()},2022,1500.00\n", "gb18030")
    call_command("import_ledger", str(good))
    assert "已导入 1 条" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,身份证号码,年度,金额\n李四,123,2022,1500.00\n", "utf-8")
    with pytest.raises(CommandError, match="未导入任何记录"):
        call_command("import_ledger", str(bad))
    assert GrantLedger.objects.count() == 1


def test_admin_import_refuses_a_file_with_errors(admin_client):
    content = f"姓名,身份证号码,年度,金额\n张三,{make_id_number()},2022,1500\n李四,bad,2022,1500\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = admin_client.post(
        "/admin/payouts/grantledger/import/",
        {
            "import_file": SimpleUploadedFile("l.csv", content.encode()),
            "format": "0",
            "resource": "0",
        },
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert "身份证号码应为 18 位" in html
    assert "process_import" not in html  # no confirm form: nothing can be saved
    assert not GrantLedger.objects.exists()


def test_resource_export_headers():
    assert LedgerResource().get_export_headers() == ["姓名", "年度", "金额"]
