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
