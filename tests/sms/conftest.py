"""The SMS gateway simulator on a loopback port, reset for each test."""

import threading

import httpx
import pytest

from simulators.registry.simulator import serve
from simulators.sms.simulator import SmsGateway


class Gateway:
    def __init__(self):
        self.server = serve("127.0.0.1", 0, SmsGateway("test-key-id", "test-key-secret"))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.http = httpx.Client(timeout=5)

    def control(self, **changes) -> dict:
        return self.http.post(self.url + "_control", json=changes).raise_for_status().json()

    def state(self) -> dict:
        return self.http.get(self.url + "_control").json()

    def stop(self):
        self.control(mode="ok")  # wake a hanging request
        self.http.close()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def gateway_server():
    g = Gateway()
    yield g
    g.stop()


@pytest.fixture
def gateway(gateway_server, settings):
    """The gateway with every catalogue template registered under SMS_100000n, and the
    provider backend pointed at it."""
    from sms import catalogue
    from sms.models import SmsTemplate

    gateway_server.control(reset=True)
    templates = {}
    for i, entry in enumerate(catalogue.ENTRIES, start=1):
        code = f"SMS_{1000000 + i}"
        templates[code] = {
            "params": list(entry.params),
            "verification": entry.kind == catalogue.VERIFICATION,
        }
        SmsTemplate.objects.filter(key=entry.key).update(provider_code=code)
    gateway_server.control(templates=templates, signs=["求学圆梦"])
    settings.SMS_BACKEND = "provider"
    settings.SMS_PROVIDER_URL = gateway_server.url
    settings.SMS_PROVIDER_KEY_ID = "test-key-id"
    settings.SMS_PROVIDER_KEY = "test-key-secret"
    settings.SMS_PROVIDER_TIMEOUT = 2.0
    return gateway_server
