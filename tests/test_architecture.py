"""The shape of the code, held by tests: one home per rule, no test switch in production code.
(Import cycles: tests/test_import_cycles.py.)"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_modules():
    """(path, text) of every production module: the project's packages, without migrations,
    tests, or the development-only simulators."""
    for package in sorted(p.parent for p in ROOT.glob("*/__init__.py")):
        if package.name in {"tests", "simulators"}:
            continue
        for path in sorted(package.rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def where(pattern):
    rx = re.compile(pattern)
    return sorted(path for path, text in production_modules() if rx.search(text))


def test_the_garbled_text_check_has_one_home():
    # U+FFFD written as an escape or as itself, anywhere in production code
    assert where(r"\\ufffd|\ufffd") == ["unions/validators.py"]


def test_the_free_text_paths_call_the_one_cleaner():
    for path in (
        "payouts/services/payment.py",
        "payouts/services/revocation.py",
        "reviews/services/decisions.py",
    ):
        assert "clean_free_text(" in (ROOT / path).read_text(encoding="utf-8"), path
    forms = (ROOT / "subsidy/forms.py").read_text(encoding="utf-8")
    assert "refuse_garbled" in forms and "def refuse_garbled" not in forms
