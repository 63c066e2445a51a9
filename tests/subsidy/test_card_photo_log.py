"""The PII view log records a reviewer seeing a bank card photo only when a photo is served:
a missing photo is a 404 and leaves no entry claiming the reviewer saw it."""

import pytest

from reviews.models import PIIViewLog
from subsidy.models import Application
from subsidy.services import uploads
from tests.subsidy.conftest import post_application

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(api, applicant, campaign):
    app = Application.objects.get(pk=post_application(api).json()["id"])
    app.registry_pass(by=None)
    app.save()
    return Application.objects.get(pk=app.pk)


@pytest.fixture
def reviewer(client, reviewers):
    client.force_login(reviewers.district_yuexiu.user)
    return client


def test_a_served_photo_is_logged_once(reviewer, submitted):
    response = reviewer.get(f"/applications/{submitted.pk}/photo/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert PIIViewLog.objects.filter(application=submitted, field="card_photo").count() == 1


def test_a_photo_missing_from_disk_is_404_and_not_logged(reviewer, submitted):
    uploads.delete(submitted.bank_card_photo)  # gone from disk (erased)
    assert reviewer.get(f"/applications/{submitted.pk}/photo/").status_code == 404
    assert not PIIViewLog.objects.exists()


def test_an_application_without_a_photo_is_404_and_not_logged(reviewer, submitted):
    Application.objects.filter(pk=submitted.pk).update(bank_card_photo="")
    assert reviewer.get(f"/applications/{submitted.pk}/photo/").status_code == 404
    assert not PIIViewLog.objects.exists()
