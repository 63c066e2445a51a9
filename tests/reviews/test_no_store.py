"""Responses that carry whole ID or account numbers are never stored by a browser or a proxy:
Cache-Control says private, no-store."""

import pytest


@pytest.fixture
def grassroots(client, reviewers):
    client.force_login(reviewers.grassroots_a.user)
    return client


def _not_stored(response):
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= directives, response.get("Cache-Control")


def test_the_detail_page_is_not_stored(grassroots, app_a1):
    response = grassroots.get(f"/review/applications/{app_a1.pk}/")
    assert response.status_code == 200
    _not_stored(response)


def test_a_refused_decision_showing_the_detail_page_is_not_stored(grassroots, app_a1):
    response = grassroots.post(
        f"/review/applications/{app_a1.pk}/decide/",
        {"decision": "approve", "expected_status": "pending_grassroots"},
    )
    assert response.status_code == 400
    _not_stored(response)


@pytest.mark.parametrize("field", ["id_number", "bank_account"])
def test_a_revealed_number_is_not_stored(grassroots, app_a1, field):
    response = grassroots.post(f"/review/applications/{app_a1.pk}/reveal/{field}/")
    assert response.status_code == 200
    assert getattr(app_a1, field) in response.content.decode()
    _not_stored(response)


def test_the_export_is_not_stored(grassroots, app_a1):
    response = grassroots.get("/review/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    _not_stored(response)


def test_the_api_detail_is_not_stored(client, reviewers, app_a1):
    client.force_login(reviewers.grassroots_a.user)
    response = client.get(f"/api/v1/reviews/{app_a1.pk}/")
    assert response.status_code == 200 and response.json()["id"] == app_a1.pk
    _not_stored(response)
