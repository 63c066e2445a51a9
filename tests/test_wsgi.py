"""The web process settles its heap when the WSGI application loads (subsidy.wsgi)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import gc, json, subsidy.wsgi, sys; "
    "print(json.dumps([gc.get_freeze_count(), gc.get_threshold(), "
    "'subsidy.api.views' in sys.modules]))"
)


def _probe(**env) -> list:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
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


def test_thresholds_follow_the_setting():
    assert _probe(GC_THRESHOLD="700,10,10")[1] == [700, 10, 10]


def test_gunicorn_reads_the_production_settings_from_the_project_root(monkeypatch):
    """gunicorn.conf.py as gunicorn itself loads it: a socket per worker (SO_REUSEPORT), so
    the kernel spreads the opening rush's connections across the processes."""
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
