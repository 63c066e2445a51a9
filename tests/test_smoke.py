"""The skeleton stands: the home page renders in Chinese, a transition is audited."""

import pytest

from reviews.models import AuditRecord
from subsidy.models import ApplicationStatus
from tests.factories import ApplicationFactory


@pytest.mark.django_db
def test_home_page_has_chinese_title(client, campaign):
    response = client.get("/")
    assert response.status_code == 200
    assert "求学圆梦" in response.content.decode()
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_registry_pass_appends_one_audit_record(campaign, member):
    app = ApplicationFactory(
        campaign=campaign, member=member, status=ApplicationStatus.PENDING_CHSI
    )
    app.registry_pass(by=None, reason="")
    app.save()
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS
    record = AuditRecord.objects.get(application=app)
    assert (record.from_status, record.to_status) == ("pending_chsi", "pending_grassroots")
    assert len(record.hash) == 64
