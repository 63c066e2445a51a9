"""The HTTP client's typed results against the simulator process: Found / NotFound /
Unavailable for every way the registry can misbehave."""

import socket

import pytest

from registry.client import Found, HttpRegistryClient, NotFound, Unavailable
from registry.ratelimit import RateLimited, RateLimitedClient, TokenBucket

RECORD = {
    "number": "ZK2024A0001",
    "name": "陈小红",
    "id_number": "440106199503070013",
    "institution": "华南理工大学",
    "major": "会计学",
    "level": "本科",
    "learning_form": "自学考试",
    "date": "2024-06-30",
    "status": "毕业",
}


@pytest.fixture
def client(sim):
    sim.add("certificate", **RECORD)
    return HttpRegistryClient(sim.url, user="demo", password="demo", timeout=0.5)


def test_found_returns_the_typed_record(client):
    result = client.lookup_certificate("ZK2024A0001")
    assert isinstance(result, Found)
    r = result.record
    assert (r.kind, r.name, r.level, r.learning_form, r.status) == (
        "certificate",
        "陈小红",
        "本科",
        "自学考试",
        "毕业",
    )
    assert r.date.isoformat() == "2024-06-30"


def test_lookup_is_exact_and_per_kind(client):
    assert client.lookup_certificate("zk2024a0001") == NotFound()
    assert client.lookup_certificate(" ZK2024A0001") == NotFound()
    assert client.lookup_student("ZK2024A0001") == NotFound()


@pytest.mark.parametrize(
    "fault,reason",
    [
        ({"mode": "error", "status": 500}, "http_500"),
        ({"mode": "error", "status": 503}, "http_503"),
        ({"mode": "hang", "hang_seconds": 3}, "timeout"),
        ({"mode": "malformed"}, "malformed"),
        ({"mode": "down"}, "transport_error:RemoteProtocolError"),
    ],
    ids=["500", "503", "timeout", "malformed-json", "connection-dropped"],
)
def test_faults_are_unavailable(sim, client, fault, reason):
    sim.control(**fault)
    assert client.lookup_certificate("ZK2024A0001") == Unavailable(reason)
    sim.control(mode="ok")
    assert isinstance(client.lookup_certificate("ZK2024A0001"), Found)


def test_nothing_listening_is_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = HttpRegistryClient(f"http://127.0.0.1:{port}", timeout=0.5)
    assert client.lookup_student("1") == Unavailable("connect_error")


def test_wrong_credentials_are_unavailable_not_not_found(sim):
    client = HttpRegistryClient(sim.url, user="demo", password="wrong", timeout=0.5)
    assert client.lookup_certificate("ZK2024A0001") == Unavailable("auth")


def test_a_body_without_a_result_is_unavailable(sim):
    # an HTML error page or a JSON answer of another shape is never read as "not found"
    client = HttpRegistryClient(sim.url + "/no-such-prefix", user="demo", password="demo")
    assert client.lookup_certificate("ZK2024A0001") == Unavailable("http_404")


def test_rate_limiter_bounds_requests_and_asks_to_retry_later(sim, client):
    inner = HttpRegistryClient(sim.url, user="demo", password="demo", timeout=0.5)
    bucket = TokenBucket(rate=2, burst=2)  # in-process bucket: 2 requests a second
    client = RateLimitedClient(inner, bucket=bucket, max_wait=0)
    results = [client.lookup_certificate("ZK2024A0001") for _ in range(3)]
    assert isinstance(results[0], Found) and isinstance(results[1], Found)
    assert isinstance(results[2], RateLimited) and 0 < results[2].retry_after <= 0.5
    assert sim.state()["counters"]["lookups"] == 2


def test_redis_token_bucket_is_shared(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis")
    import uuid

    key = f"test:bucket:{uuid.uuid4()}"
    a = TokenBucket(rate=1, burst=1, redis_url=settings.REDIS_URL, key=key)
    b = TokenBucket(rate=1, burst=1, redis_url=settings.REDIS_URL, key=key)
    assert a.take() == 0
    assert b.take() > 0  # the other "worker" sees the same bucket
