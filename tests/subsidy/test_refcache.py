"""The per-process copy of the reference data read on every submission."""

import pytest

from subsidy import refcache
from subsidy.models import BankBin, CommitmentLetter
from subsidy.services import bank

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(settings):
    settings.REFERENCE_CACHE_SECONDS = 60
    refcache.bin_table.clear()
    refcache.current_commitment.clear()
    yield
    refcache.bin_table.clear()
    refcache.current_commitment.clear()


def test_bin_lookups_are_served_from_the_copy(cached, django_assert_num_queries):
    bank.issuer_of("6222021001115227281")  # loads the table
    with django_assert_num_queries(0):
        rows = bank.issuer_of("6222021001115227281")
    assert rows and rows[0].bank == "ICBC"


def test_an_edit_in_this_process_is_seen_at_once(cached):
    account = "9999990000000000000"
    assert bank.issuer_of(account) == []
    BankBin.objects.create(bin="999999", bank="ICBC", card_type="DC", length=19)
    assert [r.bin for r in bank.issuer_of(account)] == ["999999"]
    BankBin.objects.filter(bin="999999").delete()  # a queryset delete sends post_delete too
    assert bank.issuer_of(account) == []


def test_a_new_commitment_version_is_current_at_once(cached):
    before = CommitmentLetter.current()
    CommitmentLetter.objects.create(
        version=(before.version if before else 0) + 1, text="新版承诺书", active=True
    )
    assert CommitmentLetter.current().text == "新版承诺书"


def test_the_copy_expires(cached, settings, django_assert_num_queries):
    bank.issuer_of("6222021001115227281")
    settings.REFERENCE_CACHE_SECONDS = 0
    with django_assert_num_queries(1):
        bank.issuer_of("6222021001115227281")
