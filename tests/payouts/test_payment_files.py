"""The ICBC payment files hold every payee's full account number: they are written 0600 in a
0700 folder, whatever the process's umask."""

import os
import stat
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from payouts.services import payment
from payouts.services.allocation import allocate
from payouts.services.publication import publish
from subsidy.models import Campaign
from tests.payouts.conftest import end_intake, luhn_account, make_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def payable(small_campaign, tree):
    """One funded applicant, published, the publication period over."""
    make_app(small_campaign, tree.a1, 10, bank_account=luhn_account(10))
    allocate(small_campaign)
    end_intake(small_campaign)
    publish(small_campaign.pk)
    Campaign.objects.filter(pk=small_campaign.pk).update(
        published_at=timezone.now() - timedelta(days=small_campaign.publication_days, hours=1)
    )
    return small_campaign


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_payment_files_are_private_to_the_application_user(payable, city_user, umask):
    batch = payment.create_batch(payable.pk, by=city_user)
    root = settings.PRIVATE_MEDIA_ROOT
    assert _mode(root / "payments") == 0o700
    for rel in (batch.csv_path, batch.xlsx_path):
        assert _mode(root / rel) == 0o600, rel


def test_a_payments_folder_made_earlier_is_closed_too(payable, city_user):
    folder = settings.PRIVATE_MEDIA_ROOT / "payments"
    folder.mkdir(parents=True)
    folder.chmod(0o755)
    payment.create_batch(payable.pk, by=city_user)
    assert _mode(folder) == 0o700


def test_an_existing_file_is_still_never_overwritten(payable, city_user):
    batch = payment.create_batch(payable.pk, by=city_user)
    path = settings.PRIVATE_MEDIA_ROOT / batch.csv_path
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        payment._write_files(batch, list(batch.items.all()))
    assert path.read_bytes() == before
