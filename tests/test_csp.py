"""The Content-Security-Policy runs scripts from the site's own files only: no inline script
and no inline event handler in any template (an injected `<script>` or `onerror=` would not
run)."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_the_policy_allows_no_inline_script(settings):
    policy = dict(
        part.strip().split(" ", 1)
        for part in settings.CONTENT_SECURITY_POLICY.split(";")
        if part.strip()
    )
    assert policy["script-src"] == "'self'"


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_no_template_has_an_inline_script_or_handler(path):
    html = path.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    assert not HANDLER.search(html), HANDLER.search(html).group(0)


@pytest.mark.django_db
def test_pages_send_the_policy(client):
    r = client.get("/login/")
    assert "script-src 'self';" in r["Content-Security-Policy"]
