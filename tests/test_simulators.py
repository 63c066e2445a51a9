"""The simulators are a development-only app: development and tests install it and mount its
URLs; production settings (DJANGO_ENV=production) neither install it nor mount them, and
refuse to be told to."""

import json
import secrets
import subprocess
import sys
from pathlib import Path

from django.apps import apps
from django.urls import resolve

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
import django
django.setup()
from django.apps import apps
from django.conf import settings
from django.urls import Resolver404, resolve

def found(path):
    try:
        resolve(path)
    except Resolver404:
        return False
    return True

print(json.dumps({
    "installed": apps.is_installed("simulators"),
    "apps": settings.INSTALLED_APPS,
    "seeders": settings.DEMO_SEEDERS,
    "mounted": found("/registry-sim/api/v1/student-status"),
    "modules": sorted(m for m in sys.modules if m.split(".")[0] == "simulators"),
}))
"""


def _production_env(tmp_path, **extra):
    from cryptography.fernet import Fernet

    return {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "PII_FERNET_KEYS": Fernet.generate_key().decode(),
        "PII_HMAC_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "subsidy.example.org",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        **extra,
    }


def _probe(env):
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_development_and_tests_install_and_mount_the_simulators():
    assert apps.is_installed("simulators")
    assert resolve("/registry-sim/api/v1/student-status").url_name == "registry-sim"


def test_production_settings_have_no_simulator_app_url_or_module(tmp_path):
    result = _probe(_production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["installed"] is False
    assert not [a for a in seen["apps"] if a.startswith("simulators")]
    assert seen["mounted"] is False  # /registry-sim/ is not a URL of production
    assert seen["modules"] == []  # the URLconf and every app loaded without importing them
    assert not [s for s in seen["seeders"] if s.startswith("simulators.")]


def test_production_refuses_to_mount_the_registry_simulator(tmp_path):
    result = _probe(_production_env(tmp_path, REGISTRY_SIMULATOR_ENABLED="true"))
    assert result.returncode != 0
    assert "REGISTRY_SIMULATOR_ENABLED is for development only" in result.stderr
