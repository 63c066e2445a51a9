"""The one registry of error codes (subsidy/codes.py) holds every code the production code can
answer: a scan of the source finds each code literal, and each literal status given with one;
at run time an unregistered code is logged and fails the test that hit it (tests/conftest.py).
"""

import ast
import logging
import re
from pathlib import Path

import pytest

from subsidy import codes
from subsidy.forms import ApplicationForm

ROOT = Path(__file__).resolve().parent.parent
# Not production code, or not ours: the simulators answer the external services' own codes.
SKIP = {"tests", "simulators", "migrations", "static", "var", "node_modules", "scripts", "docs"}
STATUS_PARAMS = ("status", "status_code")


def production_files() -> list[Path]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0].startswith(".") or set(parts[:-1]) & SKIP:
            continue
        out.append(path)
    return out


def _parameters(tree) -> dict[str, list[str]]:
    """name → parameter names of every function, and of every class (its __init__, else its
    dataclass fields), that takes a parameter called `code`."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = [a.arg for a in node.args.args + node.args.kwonlyargs]
            names = names[1:] if names[:1] in (["self"], ["cls"]) else names
            if "code" in names:
                found[node.name] = names
        elif isinstance(node, ast.ClassDef):
            init = [s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"]
            if init:
                names = [a.arg for a in init[0].args.args + init[0].args.kwonlyargs][1:]
            else:
                names = [
                    s.target.id
                    for s in node.body
                    if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                ]
            if "code" in names:
                found[node.name] = names
    return found


def _strings(node) -> list[str]:
    """The string constants an argument can evaluate to (`exc.code or "x"`, `"a" if c else
    "b"`), not the parts of an f-string."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else []
    if isinstance(node, ast.BoolOp):
        return [s for v in node.values for s in _strings(v)]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _callee(func) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def scan() -> list[tuple[str, int | None, str]]:
    """(code, literal status given with it or None, where) for every code literal: the `code`
    argument of any call (`ValidationError(..., code="x")`, `ApiError("x")`, `reason("x")`,
    `_err(errors, row, "x", ...)` — any callable of the project with a `code` parameter), a
    `{"code": "x", "detail": …}` dict display, a value of a `*_CODES` mapping, and a call to the
    registry itself (`codes.text("x")`)."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in production_files()}
    signatures: dict[str, list[str]] = {}
    for tree in trees.values():
        signatures.update(_parameters(tree))
    signatures.pop("lookup", None)  # codes' own functions are matched below
    found = []
    for path, tree in trees.items():
        rel = path.relative_to(ROOT)
        for node in ast.walk(tree):
            where = f"{rel}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = _callee(node.func)
                args = {k.arg: k.value for k in node.keywords if k.arg}
                params = signatures.get(name, [])
                for i, value in enumerate(node.args):
                    if i < len(params):
                        args.setdefault(params[i], value)
                registry_call = (
                    isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "codes"
                    and node.args
                )
                if registry_call:
                    args.setdefault("code", node.args[0])
                if "code" not in args:
                    continue
                status = None
                for key in STATUS_PARAMS:
                    value = args.get(key)
                    if isinstance(value, ast.Constant) and isinstance(value.value, int):
                        status = value.value
                for code in _strings(args["code"]):
                    found.append((code, status, where))
            elif isinstance(node, ast.Dict):
                keys = {
                    k.value: v
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant)
                }
                if "code" in keys and "detail" in keys:  # an error body, row or warning
                    found += [(code, None, where) for code in _strings(keys["code"])]
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if any(t.endswith("CODES") for t in targets):
                    for value in node.value.values:
                        found += [(code, None, where) for code in _strings(value)]
    return found


FOUND = scan()


def test_the_scan_finds_the_codes_of_every_kind_of_raise_site():
    """The scanner itself: each way of raising a code in the source is seen (were one missed,
    the test below would pass on nothing)."""
    seen = {code for code, _, _ in FOUND}
    for code in (
        "not_member",  # eligibility.reason("not_member", …)
        "list_not_published",  # PayoutError("…")
        "conflict",  # DecisionError("conflict", …, status_code=409)
        "otp_expired",  # OtpError(code="…")
        "photo_corrupt",  # UploadError
        "reviewer_exists",  # ReviewerError
        "account_checksum",  # ValidationError(…, code="…")
        "idempotency_key_reused",  # ApiError
        "wrong_amount",  # _err(errors, n, "…", …)
        "missing_columns",  # {"code": "…"}
        "kind_required",  # REQUIRED_CODES
        "mobile_invalid",  # exc.code or "…"
        "server_error",  # codes.lookup("…")
    ):
        assert code in seen, code
    assert len(production_files()) > 50


def test_every_code_in_the_production_code_is_registered():
    missing = sorted(
        {f"{code} ({where})" for code, _, where in FOUND if code not in codes.REGISTRY}
    )
    assert not missing, "register these in subsidy/codes.py: " + ", ".join(missing)


def test_a_status_given_with_a_code_is_the_registered_one():
    wrong = sorted(
        f"{code} {status} ({where}; registered {codes.REGISTRY[code].status})"
        for code, status, where in FOUND
        if status is not None and code in codes.REGISTRY and codes.REGISTRY[code].status != status
    )
    assert not wrong, wrong


def test_the_form_renames_djangos_field_codes_to_registered_ones():
    """`ApplicationForm.field_code` builds codes from field names: every one it can build is
    registered."""
    from django import forms

    for name, field in ApplicationForm.base_fields.items():
        if isinstance(field, forms.BooleanField) and not field.required:
            continue  # a box left unticked is no error
        for django_code in ("required", "invalid", "invalid_choice", "missing", "empty"):
            assert codes.is_registered(ApplicationForm.field_code(name, django_code)), name
        if getattr(field, "max_length", None):
            assert codes.is_registered(ApplicationForm.field_code(name, "max_length")), name


def test_the_registry_is_well_formed():
    assert len(codes.REGISTRY) >= 100
    for entry in codes.catalogue():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", entry.code), entry.code
        assert 400 <= entry.status < 600, entry
        assert re.search(r"[\u4e00-\u9fff]", entry.text), entry  # Chinese
        assert entry.topic in codes.TOPICS
        # its fields fill in, and one left out stays visible rather than raising
        assert "{" not in entry.detail(**{f: "x" for f in entry.fields})
    assert codes.text("already_granted", year=2022) == "您已于 2022 年申领补助"
    assert codes.text("already_granted") == "您已于 {year} 年申领补助"


def test_an_unregistered_code_is_logged_and_answered_as_a_plain_400(caplog, codes_unchecked):
    from subsidy.api.errors import ApiError

    with caplog.at_level(logging.ERROR, logger="subsidy.codes"):
        exc = ApiError("no_such_code_anywhere")
    assert exc.status_code == 400 and str(exc.detail)
    assert "no_such_code_anywhere" in caplog.text


def test_a_status_other_than_the_registered_one_is_logged_and_the_registered_one_wins(
    caplog, codes_unchecked
):
    from payouts.services.errors import PayoutError

    with caplog.at_level(logging.ERROR, logger="subsidy.codes"):
        exc = PayoutError("not_funded", status=400)
    assert exc.status == 409
    assert "not_funded" in caplog.text


@pytest.mark.parametrize(
    "code", ["not_member", "intake_closed", "busy", "conflict", "rate_limited", "not_published"]
)
def test_the_exception_types_take_status_and_text_from_the_registry(code, codes_unchecked):
    from payouts.services.errors import PayoutError
    from reviews.services.decisions import DecisionError
    from subsidy.api.errors import ApiError
    from subsidy.services.intake import IntakeRefused

    entry = codes.REGISTRY[code]
    assert ApiError(code).status_code == entry.status
    assert str(ApiError(code).detail) == entry.text
    assert IntakeRefused(code).status_code == entry.status
    assert IntakeRefused(code).detail == entry.text
    assert DecisionError(code).status_code == entry.status
    assert PayoutError(code).status == entry.status and PayoutError(code).message == entry.text
