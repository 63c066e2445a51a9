"""The simulator mounted in Django under /registry-sim/ (what `make run` uses): a check
makes a real HTTP round trip to the live server, records from REGISTRY_SIMULATOR_DATA."""

import json

import pytest

from registry.ratelimit import reset_default_client
from registry.tasks import check_registry
from subsidy.models import ApplicationStatus
from tests.registry.conftest import record_for


@pytest.fixture
def mounted(live_server, settings, tmp_path):
    data = tmp_path / "registry.json"
    settings.REGISTRY_SIMULATOR_DATA = str(data)
    settings.REGISTRY_URL = live_server.url + "/registry-sim"
    settings.REGISTRY_RATE_LIMIT = ""
    reset_default_client()
    yield data
    reset_default_client()


def test_checks_through_the_mounted_simulator(mounted, pending_app, client, settings):
    ok = pending_app(kind="self_study", number="144015202405000201")
    wrong = pending_app(kind="self_study", number="144015202405000202")
    mounted.write_text(
        json.dumps(
            {"certificates": [record_for(ok), record_for(wrong, learning_form="全日制")]},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    check_registry.apply(args=[ok.pk])
    check_registry.apply(args=[wrong.pk])
    ok.refresh_from_db()
    wrong.refresh_from_db()
    assert ok.status == ApplicationStatus.PENDING_GRASSROOTS
    assert wrong.status == ApplicationStatus.CHSI_FAILED
    assert wrong.registry_outcome == "not_self_study"


def test_mounted_simulator_needs_credentials_and_obeys_faults(mounted, client, pending_app):
    mounted.write_text('{"students": []}', encoding="utf-8")
    assert client.get("/registry-sim/api/v1/student-status?number=1").status_code == 401
    auth = {"HTTP_AUTHORIZATION": "Basic ZGVtbzpkZW1v"}  # demo:demo
    r = client.get("/registry-sim/api/v1/student-status?number=1", **auth)
    assert r.json() == {"result": "not_found"}
    client.post(
        "/registry-sim/_control", '{"mode": "error", "count": 1}', "application/json", **auth
    )
    assert client.get("/registry-sim/api/v1/student-status?number=1", **auth).status_code == 503
    assert client.get("/registry-sim/api/v1/student-status?number=1", **auth).status_code == 200


def test_missing_data_file_is_unavailable_not_not_found(mounted, client, pending_app):
    # a misconfigured simulator must not fail everybody's check
    app = pending_app()
    check_registry.apply(args=[app.pk])
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING_CHSI
