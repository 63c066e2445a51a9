"""Reference data that every submission reads — the BIN table and the current commitment
letter — kept in each process for settings.REFERENCE_CACHE_SECONDS (60 by default; the test
suite sets 0). A save or delete of such a row in this process clears the copy at once (signals
in `subsidy.signals`); the other processes see an edit from the admin within the period.
Two queries less per submission in the opening rush (bench_intake)."""

import time

from django.conf import settings


class ProcessCache:
    def __init__(self, load):
        self._load = load
        self._value = None
        self._loaded_at: float | None = None

    def get(self):
        seconds = getattr(settings, "REFERENCE_CACHE_SECONDS", 60)
        loaded_at = self._loaded_at
        if seconds <= 0 or loaded_at is None or time.monotonic() - loaded_at > seconds:
            value = self._load()
            self._value = value  # the value first: a reader that sees the new time sees it
            self._loaded_at = time.monotonic()
            return value
        return self._value

    def clear(self):
        self._loaded_at = None


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


def connect_signals():
    """Called from SubsidyConfig.ready(): an edit in this process clears the copy at once."""
    from django.db.models.signals import post_delete, post_save

    from subsidy.models import BankBin, CommitmentLetter

    for model, cache in ((BankBin, bin_table), (CommitmentLetter, current_commitment)):
        for signal in (post_save, post_delete):
            signal.connect(
                lambda sender, cache=cache, **kwargs: cache.clear(),
                sender=model,
                weak=False,
                dispatch_uid=f"refcache-{model.__name__}-{signal is post_save}",
            )
