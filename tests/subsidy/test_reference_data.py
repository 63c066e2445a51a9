"""Reference data shipped as fixtures and editable in the admin: the card BIN table (with
import/export) and the 2024 campaign."""

import pytest
from django.contrib.auth import get_user_model

from subsidy.models import BankBin


@pytest.mark.django_db
def test_migrations_load_the_attributed_bin_table():
    assert BankBin.objects.count() == 1709
    icbc = BankBin.objects.filter(bank="ICBC")
    assert icbc.count() == 90
    assert icbc.filter(card_type=BankBin.CardType.DEBIT).count() == 48
    assert icbc.first().bank_name == "中国工商银行"


@pytest.mark.django_db
def test_bank_bins_are_imported_in_the_admin_with_a_dry_run_first(client, tmp_path):
    user = get_user_model().objects.create_superuser("boss", "b@example.com", "x")
    client.force_login(user)
    before = list(BankBin.objects.values_list("pk", flat=True))
    path = tmp_path / "bins.csv"
    path.write_text("bin,bank,bank_name,type,length\n621226,ICBC,中国工商银行,DC,19\n")
    with path.open("rb") as fh:
        response = client.post(
            "/admin/subsidy/bankbin/import/",
            {"import_file": fh, "format": "0", "resource": "0"},  # 0 = csv
        )
    assert response.status_code == 200
    assert "process_import" in response.content.decode()
    assert (
        not BankBin.objects.filter(bin="621226", length=19, bank_name="中国工商银行")
        .exclude(pk__in=before)
        .exists()
    )  # nothing before the confirmation
    response = client.get("/admin/subsidy/bankbin/export/")
    assert response.status_code == 200
