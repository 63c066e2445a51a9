import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")
application = get_wsgi_application()


def settle_heap():
    """Load what the first requests would (the URLconf and every view behind it), then take
    the objects that live as long as the process out of the garbage collector's sight
    (`gc.freeze`) and collect the young generation less often.

    A web worker holds ~120,000 long-lived objects (Django, DRF, the models, the URLconf).
    With Python's default thresholds each full collection walked them all: under the opening
    rush a gunicorn worker spent 8.4 % of its CPU in the collector, 15 full collections of
    80 ms each, while every request in flight in that process waited. Frozen, with these
    thresholds: 4.1 %, no full collection during the rush (gc.callbacks in both workers during
    bench_intake's rush). Request garbage is still collected; only the frozen objects are
    skipped. settings.GC_THRESHOLD (env GC_THRESHOLD, "gen0,gen1,gen2")."""
    import gc

    from django.conf import settings
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — imports every view module now
    gc.collect()
    gc.freeze()
    if settings.GC_THRESHOLD:
        gc.set_threshold(*settings.GC_THRESHOLD)


settle_heap()
