import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def settle_heap():
    """Load what the first requests would (the URLconf and every view behind it, and
    `warm_up`'s one-time work of the first submission), then take
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
    warm_up()
    gc.collect()
    gc.freeze()
    if settings.GC_THRESHOLD:
        gc.set_threshold(*settings.GC_THRESHOLD)


def warm_up():
    """Do now, while the worker starts, what its first submission would otherwise do inside the
    opening rush, once per process and with other threads waiting on the import lock: import
    Pillow's image plugins, compile phonenumbers' patterns for China, finalize the Celery app
    its publishing machinery and result backend (the first drain task a worker sends), and make the client
    of the registry hand-off's queue. A fresh process's first submission cost 64.6 ms of CPU
    against ~5 ms for the next ones; after this, see tests/test_wsgi.py. Nothing here
    connects to a server: a database, Redis or broker that is down does not stop a worker
    from starting."""
    from PIL import Image

    from config.celery import app as celery_app
    from registry import pipeline
    from unions.validators import clean_contact_phone

    Image.preinit()
    clean_contact_phone.__wrapped__("13800138000")  # not kept: the cache is for real input
    clean_contact_phone.__wrapped__("020-83000000")
    celery_app.loader.import_default_modules()  # every app's tasks: services send them by name
    celery_app.finalize(auto=True)
    celery_app.amqp.router  # noqa: B018 — builds the publisher's routing and message types
    celery_app.backend  # noqa: B018 — a publish's result handle finds it by entry points
    if not celery_app.conf.task_always_eager:
        pipeline.dispatch_queue()


settle_heap()
