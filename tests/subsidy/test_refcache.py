"""The per-process copy of the reference data read on every submission."""

import pytest

from subsidy import refcache
from subsidy.models import BankBin, Campaign, CommitmentLetter
from subsidy.refcache import current_commitment
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
    before = current_commitment.get()
    CommitmentLetter.objects.create(
        version=(before.version if before else 0) + 1, text="新版承诺书", active=True
    )
    assert current_commitment.get().text == "新版承诺书"


def test_the_copy_expires(cached, settings, django_assert_num_queries):
    bank.issuer_of("6222021001115227281")
    settings.REFERENCE_CACHE_SECONDS = 0
    with django_assert_num_queries(1):
        bank.issuer_of("6222021001115227281")


# --- the current campaign, for the submission path ------------------------------------------
@pytest.fixture
def campaign_cached(settings):
    settings.CAMPAIGN_CACHE_SECONDS = 5
    refcache.intake_campaign.clear()
    yield
    refcache.intake_campaign.clear()


def test_the_campaign_is_read_once_per_period(campaign, campaign_cached, django_assert_num_queries):
    first = refcache.intake_campaign.get()
    with django_assert_num_queries(0):
        second = refcache.intake_campaign.get()
    assert first.pk == second.pk == campaign.pk
    assert first is not second  # each caller its own copy: threads share the cached one


def test_the_copy_ends_when_the_campaign_opens(campaign, campaign_cached):
    """Read two seconds before 10:00: at 10:00 the window is open, not 未开始 for 5 s more."""
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    opens = timezone.now() + timedelta(seconds=2)
    Campaign.objects.filter(pk=campaign.pk).update(opens_at=opens)
    assert not refcache.intake_campaign.get().window_open()
    with mock.patch("django.utils.timezone.now", return_value=opens):
        assert refcache.intake_campaign.get().window_open(opens)


def test_a_campaign_saved_in_this_process_is_seen_at_once(campaign, campaign_cached):
    assert not refcache.intake_campaign.get().intake_closed_manually
    campaign.intake_closed_manually = True
    campaign.save()
    assert refcache.intake_campaign.get().intake_closed_manually


def test_a_refusal_by_the_lock_refreshes_the_copy(
    campaign, campaign_cached, django_assert_num_queries
):
    """The cap is reached elsewhere (another process): the copy still says there is room,
    the lock refuses, and from then on the copy says intake is closed — late arrivals are
    refused before their photo is read."""
    from subsidy.services import intake

    copy = refcache.intake_campaign.get()
    Campaign.objects.filter(pk=campaign.pk).update(applicant_count=campaign.application_cap)
    assert copy.applicant_count < copy.application_cap
    with pytest.raises(intake.IntakeRefused) as exc:
        intake._claim_place(copy, first=True)
    assert exc.value.code == "intake_closed"
    with django_assert_num_queries(0):
        fresh = refcache.intake_campaign.get()
    assert fresh.applicant_count == campaign.application_cap


def test_without_the_period_every_call_reads(campaign, settings, django_assert_num_queries):
    settings.CAMPAIGN_CACHE_SECONDS = 0
    refcache.intake_campaign.get()
    with django_assert_num_queries(2):  # the campaign, and the next opening of any
        refcache.intake_campaign.get()


# --- one load at a time -----------------------------------------------------------------------
def _slow_cache(results: list, started, release):
    """A ProcessCache whose load blocks until `release` is set, and counts its calls."""

    def load():
        results.append("load")
        started.set()
        release.wait(5)
        return len(results)

    return refcache.ProcessCache(load)


def _in_threads(n, fn):
    import threading

    out = [None] * n

    def run(i):
        out[i] = fn()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads, out


def test_an_expired_copy_is_reloaded_by_one_thread_while_the_others_use_it(settings):
    import threading

    settings.REFERENCE_CACHE_SECONDS = 60
    loads, started, release = [], threading.Event(), threading.Event()
    cache = _slow_cache(loads, started, release)
    release.set()
    assert cache.get() == 1  # the first copy
    cache._entry = (cache._entry[0], cache._entry[1] - 61)  # a minute later: expired
    release.clear()
    started.clear()
    loader, first = _in_threads(1, cache.get)
    assert started.wait(5)
    threads, values = _in_threads(7, cache.get)
    for t in threads:
        t.join(5)
    assert values == [1] * 7  # served the old copy at once, without loading
    release.set()
    loader[0].join(5)
    assert first == [2] and loads == ["load", "load"]
    assert cache.get() == 2


def test_without_a_copy_the_threads_wait_for_one_load(settings):
    import threading

    settings.REFERENCE_CACHE_SECONDS = 60
    loads, started, release = [], threading.Event(), threading.Event()
    cache = _slow_cache(loads, started, release)
    threads, values = _in_threads(8, cache.get)
    assert started.wait(5)
    release.set()
    for t in threads:
        t.join(5)
    assert loads == ["load"] and values == [1] * 8


def test_a_load_overtaken_by_clear_is_not_kept(settings):
    import threading

    settings.REFERENCE_CACHE_SECONDS = 60
    loads, started, release = [], threading.Event(), threading.Event()
    cache = _slow_cache(loads, started, release)
    threads, values = _in_threads(1, cache.get)
    assert started.wait(5)
    cache.clear()  # an edit saved while the table was being read
    release.set()
    threads[0].join(5)
    assert values == [1]
    assert cache.get() == 2  # loaded again: the edit is seen
