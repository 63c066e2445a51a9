"""Reference data that every submission reads — the BIN table and the current commitment
letter — kept in each process for settings.REFERENCE_CACHE_SECONDS (60 by default; the test
suite sets 0). A save or delete of such a row in this process clears the copy at once (signals
in `subsidy.signals`); the other processes see an edit from the admin within the period.
Two queries less per submission in the opening rush (bench_intake)."""

import threading
import time

from django.conf import settings


class ProcessCache:
    """One loaded value per process, shared by its threads.

    When the copy expires, one thread loads the new one while the others go on with the copy
    they have (a few milliseconds older): under the opening rush the eight threads of a
    process used to find the BIN table expired at the same moment and load its ~1,700 rows
    eight times over, once a minute. With no copy at all (start, or `clear()` after an edit in
    this process) the others wait for the one load. A load that a `clear()` overtook is used
    by its caller but not kept: the next caller loads again and sees the edit."""

    def __init__(self, load):
        self._load = load
        self._entry: tuple | None = None  # (value, loaded at: time.monotonic())
        self._lock = threading.Lock()
        self._generation = 0  # moved by clear()

    def get(self):
        seconds = getattr(settings, "REFERENCE_CACHE_SECONDS", 60)
        if seconds <= 0:
            return self._load()
        entry = self._entry
        if entry is not None and time.monotonic() - entry[1] <= seconds:
            return entry[0]
        if entry is not None:
            if not self._lock.acquire(blocking=False):
                return entry[0]  # another thread is loading: keep serving the copy
        else:
            self._lock.acquire()
        try:
            current = self._entry
            if current is not None and current is not entry:
                return current[0]  # loaded by the thread this one waited for
            generation = self._generation
            value = self._load()
            if generation == self._generation:
                self._entry = (value, time.monotonic())
            return value
        finally:
            self._lock.release()

    def clear(self):
        self._generation += 1
        self._entry = None


def _bin_table() -> dict:
    """{(bin, card length): [rows]} of the whole BIN table (~1,700 rows)."""
    from subsidy.models import BankBin

    table: dict = {}
    for row in BankBin.objects.all():
        table.setdefault((row.bin, row.length), []).append(row)
    return table


def _commitment():
    from subsidy.models import CommitmentLetter

    return CommitmentLetter.objects.filter(active=True).order_by("-version").first()


bin_table = ProcessCache(_bin_table)
current_commitment = ProcessCache(_commitment)


class IntakeCampaign:
    """`Campaign.current()` for the submission path, kept per process for
    settings.CAMPAIGN_CACHE_SECONDS (5 by default; the test suite sets 0): one ORM query less
    per submission in the opening rush.

    Nothing the rules decide rests on this copy. The intake lock (`intake.CLAIM_PLACE`)
    re-reads the window, the cap, the quota and a manual close from the locked row; the copy
    only lets the entry check refuse early. So that it does not refuse wrongly:
    - it expires no later than the next moment the answer could change by the clock alone:
      the current campaign's opening or closing, or another campaign's opening — at 10:00:00
      nobody is told 未开始 by a copy read at 09:59:58;
    - a save or delete of a campaign in this process clears it (signals below), and so does a
      refusal by the lock (`intake._refuse_from_fresh_read` puts the fresh row in), so late
      arrivals are refused before their photo is read once the cap is reached.
    An edit made in another process (a manual close lifted, a cap raised in the admin)
    reaches this one within CAMPAIGN_CACHE_SECONDS.
    Callers get their own shallow copy: the cached instance is shared by threads."""

    def __init__(self):
        self._entry: tuple | None = None  # (campaign, valid until: aware datetime)

    def get(self):
        import copy

        from django.utils import timezone

        now = timezone.now()
        entry = self._entry
        if entry is None or now >= entry[1]:
            entry = self._load(now)
        return copy.copy(entry[0]) if entry[0] is not None else None

    def get_pk(self) -> int | None:
        """The current campaign's id (no copy made)."""
        from django.utils import timezone

        now = timezone.now()
        entry = self._entry
        if entry is None or now >= entry[1]:
            entry = self._load(now)
        return entry[0].pk if entry[0] is not None else None

    def _load(self, now):
        from datetime import timedelta

        from django.db.models import Min

        from subsidy.models import Campaign

        campaign = Campaign.current()
        seconds = getattr(settings, "CAMPAIGN_CACHE_SECONDS", 5)
        until = now + timedelta(seconds=max(seconds, 0))
        next_opening = Campaign.objects.filter(opens_at__gt=now).aggregate(t=Min("opens_at"))
        boundaries = [next_opening["t"]]
        if campaign is not None:
            boundaries += [campaign.opens_at, campaign.closes_at]
        until = min([until] + [b for b in boundaries if b is not None and b > now])
        entry = (campaign, until)
        if seconds > 0:
            self._entry = entry
        return entry

    def put(self, campaign):
        """A fresh read of the current campaign (the lock refused): keep it in place of the
        copy, for the same period."""
        entry = self._entry
        if entry is not None and entry[0] is not None and campaign.pk == entry[0].pk:
            self._entry = (campaign, entry[1])

    def clear(self):
        self._entry = None


intake_campaign = IntakeCampaign()


def connect_signals():
    """Called from SubsidyConfig.ready(): an edit in this process clears the copy at once."""
    from django.db.models.signals import post_delete, post_save

    from subsidy.models import BankBin, Campaign, CommitmentLetter

    caches = ((BankBin, bin_table), (CommitmentLetter, current_commitment))
    caches += ((Campaign, intake_campaign),)
    for model, cache in caches:
        for signal in (post_save, post_delete):
            signal.connect(
                lambda sender, cache=cache, **kwargs: cache.clear(),
                sender=model,
                weak=False,
                dispatch_uid=f"refcache-{model.__name__}-{signal is post_save}",
            )
