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


def test_reviewer_level_has_one_home():
    assert where(r"def _?reviewer_level\b") == ["unions/models.py"]


def test_read_only_admin_pages_share_one_mixin():
    """No admin class spells out no-add, no-change and no-delete by itself any more."""
    trio = (
        r"def has_add_permission\(self, request(, obj=None)?\):\s+return False\s+"
        r"def has_change_permission\(self, request, obj=None\):\s+return False\s+"
        r"def has_delete_permission\(self, request, obj=None\):\s+return False"
    )
    assert where(trio) == ["unions/admin_mixins.py"]


def test_join_and_transfer_requests_share_their_abstract_base():
    from unions.models import JoinRequest, MembershipRequest, TransferRequest

    assert MembershipRequest._meta.abstract
    for model in (JoinRequest, TransferRequest):
        assert issubclass(model, MembershipRequest)
        names = {f.name for f in model._meta.fields}
        assert {"status", "requested_at", "decided_at", "decided_by"} <= names


def test_sql_names_statuses_through_application_status():
    """No status is spelled as a SQL string literal: statements build them with
    subsidy.models.sql_literals, so a renamed status cannot leave a statement behind."""
    from subsidy.models import ApplicationStatus

    names = "|".join(ApplicationStatus.values)
    assert where(rf"(status|stage)\s*(=|<>|!=|IN \(|NOT IN \()\s*'({names})'") == []
    assert where(rf"SELECT id, status, '({names})'") == []


def test_one_browser_launch_for_every_browser_test():
    """tests/e2e/conftest.py launches Debian's Chromium for all of them; no test module
    launches its own."""
    launching = sorted(
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tests").rglob("*.py")
        if path != Path(__file__).resolve()
        and re.search(r"executable_path|def browser_type_launch_args|\.launch\(", path.read_text())
    )
    assert launching == ["tests/e2e/conftest.py"]
