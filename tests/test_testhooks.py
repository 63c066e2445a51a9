"""The test-only switches and delays live in one module (testhooks/): production code only
reads them, no production SQL carries a delay, tests set them through the `hooks` fixture, and
production settings refuse them."""

import ast
import re
import secrets
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

import testhooks

ROOT = Path(__file__).resolve().parent.parent
APPS = ["config", "subsidy", "registry", "unions", "reviews", "payouts", "notifications"]


def _production_sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, path.read_text(encoding="utf-8")


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


def _python(code, env):
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_settings_refuse_to_change_a_hook(tmp_path):
    code = (
        "import django; django.setup()\n"
        "import testhooks\n"
        "try:\n"
        "    testhooks.set_hooks(intake_locking=False)\n"
        "except testhooks.Refused as e:\n"
        "    print('refused:', e)\n"
        "print('locking', testhooks.on('intake_locking'))\n"
    )
    result = _python(code, _production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "refused: test hooks cannot be changed under production settings" in result.stdout
    assert "locking True" in result.stdout


def test_production_settings_refuse_subsidy_testing(tmp_path):
    result = _python(
        "import django; django.setup()", _production_env(tmp_path, SUBSIDY_TESTING="1")
    )
    assert result.returncode != 0
    assert "SUBSIDY_TESTING (the test hooks, testhooks/) is refused in production" in result.stderr


def test_no_production_sql_or_code_carries_a_delay_or_sets_a_hook():
    for path, text in _production_sources():
        assert "pg_sleep" not in text, path
        assert not re.search(r"testhooks\.(set_hooks|override|reset)\b", text), path


def test_services_read_no_test_switch_from_settings():
    """The switches moved out of settings: no `getattr(settings, "X")` of a hook's old name."""
    old = re.compile(r"_(LOCKING|LOCK|RACE_DELAY|TEST_DELAY|UNSAFE_CLAIM)\b")
    for path, text in _production_sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not old.search(node.value) or node.value.startswith("pg_"), (path, node)


def test_every_hook_is_read_by_production_code_and_only_known_names_are():
    names = {f.name for f in fields(testhooks.Hooks)}
    read = set()
    for path, text in _production_sources():
        for name in re.findall(r"testhooks\.(?:on|pause)\(\"(\w+)\"\)", text):
            assert name in names, (path, name)
            read.add(name)
    assert read == names  # no hook left behind that nothing reads


def test_the_fixture_sets_hooks_and_each_test_starts_from_production_values(hooks):
    assert testhooks.current() == testhooks.PRODUCTION
    hooks.set(intake_locking=False, intake_race_delay=0.01)
    assert not testhooks.on("intake_locking")
    assert testhooks.current().intake_race_delay == 0.01
    with pytest.raises(TypeError, match="unknown test hook"):
        hooks.set(no_such_switch=True)


def test_hooks_changed_by_the_previous_test_are_gone():
    assert testhooks.current() == testhooks.PRODUCTION
