"""The web form and the API run the submission's service steps in one order: the precheck
(the entry check's refusal, or the retried request's application), then the form, then the
submit under the lock — and a retry stops after the precheck on both."""

import re

import pytest

from subsidy.forms import ApplicationForm
from subsidy.models import Application
from subsidy.services import intake
from tests.subsidy.conftest import form_data, photo, post_application

pytestmark = pytest.mark.django_db


@pytest.fixture
def steps(monkeypatch):
    seen = []

    def spy(name, fn):
        def wrapper(*args, **kwargs):
            seen.append(name)
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(intake, "precheck", spy("precheck", intake.precheck))
    monkeypatch.setattr(intake, "submit", spy("submit", intake.submit))
    monkeypatch.setattr(ApplicationForm, "is_valid", spy("form", ApplicationForm.is_valid))
    return seen


def _web_post(client):
    page = client.get("/apply/form/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page)[1]
    data = {**form_data(), "form_token": token, "card_photo": photo()}
    return client.post("/apply/form/", data), data


def test_web_and_api_run_the_same_steps_in_the_same_order(client, api, applicant, steps):
    client.force_login(applicant.user)
    response, data = _web_post(client)
    assert response.status_code == 302 and Application.objects.count() == 1
    web = list(steps)
    steps.clear()

    Application.objects.all().delete()
    assert post_application(api, key="k1").status_code == 201
    api_steps = list(steps)
    assert web == api_steps == ["precheck", "form", "submit"]


def test_a_retry_stops_after_the_precheck_on_both(client, api, applicant, steps):
    client.force_login(applicant.user)
    response, data = _web_post(client)
    steps.clear()
    data["card_photo"] = photo()
    assert client.post("/apply/form/", data).status_code == 302  # the double click
    web = list(steps)
    steps.clear()

    Application.objects.all().delete()
    assert post_application(api, key="k1").status_code == 201
    steps.clear()
    assert post_application(api, key="k1").status_code == 200
    assert web == list(steps) == ["precheck"]
