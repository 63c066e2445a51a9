"""The web process settles its heap when the WSGI application loads (config.wsgi)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import gc, json, config.wsgi, sys; "
    "print(json.dumps([gc.get_freeze_count(), gc.get_threshold(), "
    "'subsidy.api.views' in sys.modules]))"
)


def _probe(probe=PROBE, **env) -> list:
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_loading_the_application_freezes_the_long_lived_heap_and_sets_the_thresholds():
    frozen, threshold, views_loaded = _probe()
    assert views_loaded  # the URLconf's views were imported before the freeze
    assert frozen > 50_000  # Django, DRF, the models and the URLconf
    assert threshold == [5000, 20, 20]


WARM_PROBE = (
    "import json, sys, config.wsgi; "
    "from PIL import Image; from phonenumbers.phonemetadata import PhoneMetadata; "
    "from config.celery import app; from registry import pipeline; "
    "from unions.validators import clean_contact_phone; "
    "print(json.dumps([Image._initialized, 'CN' in PhoneMetadata._region_metadata, "
    "app.finalized, app._backend is not None, 'celery.canvas' in sys.modules, "
    "pipeline._current[1] is not None, clean_contact_phone.cache_info().currsize]))"
)


def test_a_new_worker_has_done_the_first_submissions_one_time_work():
    """What a worker's first submission paid inside the opening rush (Pillow's plugins, the
    phone metadata, Celery's finalize and publisher, the hand-off's queue) is done when the
    application loads; the sample phone numbers are not left in the per-input cache. Nothing
    connects: the broker URL points at a port where nothing listens."""
    pil, phone, finalized, backend, canvas, queue, cached = _probe(
        WARM_PROBE,
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    assert pil >= 1 and phone and finalized and backend and canvas and queue
    assert cached == 0


def test_thresholds_follow_the_setting():
    assert _probe(GC_THRESHOLD="700,10,10")[1] == [700, 10, 10]


def test_gunicorn_reads_the_production_settings_from_the_project_root(monkeypatch):
    """gunicorn.conf.py as gunicorn itself loads it: a socket per worker (SO_REUSEPORT), so
    the kernel spreads the opening rush's connections across the processes. The access log
    has neither the query string (`?q=<ID number>`) nor the referer."""
    from gunicorn.app.base import Application
    from gunicorn.config import Config

    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    cfg = Config()
    loaded = Application.get_config_from_filename(None, str(ROOT / "gunicorn.conf.py"))
    for name, value in loaded.items():
        if name in cfg.settings:
            cfg.set(name, value)
    assert cfg.reuse_port is True
    assert cfg.worker_class_str == "gthread"
    assert (cfg.workers, cfg.threads, cfg.keepalive) == (2, 8, 30)
    assert cfg.bind == ["0.0.0.0:8000"]
    fmt = cfg.access_log_format
    assert "%(U)s" in fmt and "%(s)s" in fmt
    for atom in ("%(r)s", "%(q)s", "%(f)s", "{referer}i", "{raw_uri}e", "{query_string}e"):
        assert atom not in fmt.lower(), atom


def test_nginx_logs_the_path_without_query_string_or_referer():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    formats = dict(re.findall(r"^log_format\s+(\w+)\s+(.*?);", conf, re.M | re.S))
    uses = re.findall(r"^\s*access_log\s+(\S+)(?:\s+(\w+))?", conf, re.M)
    servers = re.findall(r"^server\s*\{", conf, re.M)
    assert len(uses) == len(servers)  # one per server: the image's http-level "main" is replaced
    for _path, name in uses:
        fmt = formats[name]
        assert "$uri" in fmt
        assert not re.search(r"\$request\b", fmt)  # $request is the line with the query
        for variable in ("$request_uri", "$args", "$query_string", "$arg_", "$http_referer"):
            assert variable not in fmt, variable
