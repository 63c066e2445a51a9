"""The client address of every limiter, lockout and record is decided by ONE setting,
TRUSTED_PROXIES (issue 17 defect 3, SPEC §12). Behind a real proxy hop (tests/security/
proxyhop.py, doing what deploy/nginx.conf does): django-axes locks the account for the client
that failed, not for everyone behind the proxy; a forged X-Forwarded-For or X-Real-IP from the
client changes nothing; a malformed one answers, never a 500; a client that reaches Django
directly is its own address whatever it sends."""

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory

from subsidy.request_context import client_ip
from tests.factories import ReviewerFactory
from tests.security.proxyhop import Client, Proxy
from unions.models import ReviewerLevel

PASSWORD = "demo-district-2024"
LOGIN = "/review/login/?tab=password"


# --- the rule, request by request ---------------------------------------------------------
def _ip(remote, xff=None, real=None):
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    if real is not None:
        meta["HTTP_X_REAL_IP"] = real
    return client_ip(RequestFactory().get("/", **meta))


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_headers(settings):
    settings.TRUSTED_PROXIES = []
    assert _ip("203.0.113.7", xff="198.51.100.1", real="198.51.100.2") == "203.0.113.7"


@pytest.mark.parametrize(
    "remote,xff,expected",
    [
        ("10.0.0.5", "203.0.113.7", "203.0.113.7"),  # one hop
        ("10.0.0.5", "198.51.100.66, 203.0.113.7", "203.0.113.7"),  # forged left part ignored
        ("10.0.0.5", "203.0.113.7, 10.0.0.9", "203.0.113.7"),  # two trusted proxies
        ("10.0.0.5", None, "10.0.0.5"),  # a proxy that sent no header: itself
        ("10.0.0.5", "", "10.0.0.5"),
        ("10.0.0.5", "not-an-ip", "10.0.0.5"),  # malformed: the last good hop
        ("10.0.0.5", "203.0.113.7, garbage", "10.0.0.5"),
        ("10.0.0.5", "garbage, 203.0.113.7", "203.0.113.7"),  # junk left of the client
        ("10.0.0.5", "203.0.113.7:51234", "203.0.113.7"),  # with a port
        ("10.0.0.5", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.5", "::ffff:203.0.113.7", "203.0.113.7"),
        ("10.0.0.5", "203.0.113.7\x00", "10.0.0.5"),  # NUL
        ("10.0.0.5", "２０３.0.113.7", "10.0.0.5"),  # full-width digits
        ("10.0.0.5", ",".join(["203.0.113.7"] * 5000) + ", 198.51.100.9", "198.51.100.9"),
        ("198.51.100.1", "203.0.113.7", "198.51.100.1"),  # not from a proxy: header ignored
        ("garbage", "203.0.113.7", None),  # no usable peer at all
    ],
)
def test_the_forwarded_chain_is_walked_from_the_right(settings, remote, xff, expected):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert _ip(remote, xff=xff, real="192.0.2.1") == expected


# --- behind a real proxy hop ---------------------------------------------------------------
@pytest.fixture
def behind_proxy(live_server, settings, transactional_db):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the proxy connects to Django from here
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    with Proxy(live_server.url) as proxy:
        yield proxy


@pytest.fixture
def tianhe(tree, transactional_db):
    profile = ReviewerFactory(level=ReviewerLevel.DISTRICT, unions=[tree.haizhu])
    profile.user.username = profile.user.email = profile.email = "tianhe@demo.gz"
    profile.user.set_password(PASSWORD)
    profile.user.save()
    profile.save()
    return profile


def _attempt(client, password, headers=None):
    return client.post_form(
        "/review/login/",
        {"tab": "password", "identifier": "tianhe@demo.gz", "password": password},
        page=LOGIN,
        headers=headers,
    )


def _signed_in(response) -> bool:
    return response.status == 302 and response.getheader("Location", "").startswith("/review")


def test_issue_17_lockout_is_keyed_by_the_real_client_behind_the_proxy(behind_proxy, tianhe):
    """Five bad passwords for tianhe@demo.gz from one client locked the right password from
    another client (everyone was the proxy). Now only the client that failed is locked."""
    attacker = Client(behind_proxy.url, "127.0.0.2")
    assert [_attempt(attacker, "wrong-password").status for _ in range(5)] == [400] * 4 + [429]
    locked = _attempt(attacker, PASSWORD)
    assert locked.status == 429 and "账号已暂时锁定" in locked.text
    assert locked.getheader("Retry-After") == "900"
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.2"}
    # The reviewer, from elsewhere, signs in.
    reviewer = Client(behind_proxy.url, "127.0.0.3")
    assert _signed_in(_attempt(reviewer, PASSWORD))


def test_a_forged_header_from_the_client_changes_nothing(behind_proxy, tianhe):
    attacker = Client(behind_proxy.url, "127.0.0.2")
    forged = {"X-Forwarded-For": "127.0.0.3", "X-Real-IP": "127.0.0.3"}
    for _ in range(5):
        assert _attempt(attacker, "wrong-password", headers=forged).status in (400, 429)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.2"}
    # pretending to be another client does not get the attacker out of the lock …
    assert _attempt(attacker, PASSWORD, headers={"X-Forwarded-For": "127.0.0.9"}).status == 429
    # … and does not lock the client it names.
    assert _signed_in(_attempt(Client(behind_proxy.url, "127.0.0.3"), PASSWORD))


MALFORMED = ["garbage", ", , ,", "1.2.3.4.5", "[::1", "x" * 5000, "203.0.113.7\t, ::zz"]


def test_a_malformed_forwarded_header_answers_never_a_500(behind_proxy, tianhe, settings):
    settings.AXES_FAILURE_LIMIT = 50  # one failure per value, all from the same client
    client = Client(behind_proxy.url, "127.0.0.2")
    for xff in MALFORMED:
        assert client.get(LOGIN, headers={"X-Forwarded-For": xff}).status == 200, xff[:20]
        answer = _attempt(client, "wrong", headers={"X-Forwarded-For": xff})
        assert answer.status == 400, xff[:20]
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.2"}


def test_a_client_reaching_django_directly_cannot_choose_its_address(
    behind_proxy, tianhe, live_server
):
    """Only the proxy's header is believed: a client that bypasses it is its own address."""
    direct = Client(live_server.url, "127.0.0.4")
    _attempt(direct, "wrong", headers={"X-Forwarded-For": "127.0.0.2", "X-Real-IP": "127.0.0.2"})
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.4"}


def test_the_sign_in_code_limit_counts_the_real_client(behind_proxy, monkeypatch, tree):
    from subsidy.services import otp

    monkeypatch.setattr(otp, "IP_HOURLY_LIMIT", 2)
    crowd = Client(behind_proxy.url, "127.0.0.2")

    def ask(client, n, headers=None):
        body = f'{{"phone": "1391234{n:04d}"}}'
        return client.request("POST", "/api/v1/auth/otp/", json_body=body, headers=headers)

    assert [ask(crowd, n).status for n in range(3)] == [200, 200, 429]
    assert ask(crowd, 3, headers={"X-Forwarded-For": "127.0.0.8"}).status == 429  # forged
    assert ask(Client(behind_proxy.url, "127.0.0.3"), 4).status == 200  # another client
