"""The daily staff digest, and the staff-facing admin pages of this app."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from notifications.models import DeliveryStatus, Notification, NotificationKind
from notifications.tasks import send_staff_digest
from sms.backends import LocmemBackend
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def test_digest_reports_overdue_sla_and_payment_failures(
    campaign, reviewers, tree, django_capture_on_commit_callbacks
):
    campaign.grassroots_review_until = timezone.now() - timedelta(hours=2)
    campaign.save()
    for _ in range(2):
        ApplicationFactory(campaign=campaign, status="pending_grassroots")
    ApplicationFactory(campaign=campaign, status="pending_district")  # not overdue yet
    ApplicationFactory(
        campaign=campaign, status="pending_chsi", submitted_at=timezone.now() - timedelta(hours=3)
    )
    ApplicationFactory(campaign=campaign, status="pending_chsi")  # inside the SLA
    ApplicationFactory(campaign=campaign, status="payment_failed")
    reviewers.city.email = "city@example.org"
    reviewers.city.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_staff_digest() == 2  # SMS and e-mail to the one city reviewer
    rows = Notification.objects.filter(kind=NotificationKind.STAFF_DIGEST)
    assert {r.channel for r in rows} == {"sms", "email"}
    text = rows[0].text
    assert "基层工会2件" in text and "区总工会" not in text.split("逾期未审核：")[1].split("；")[0]
    assert "学历校核超过2小时未出结果：1件" in text
    assert "发放失败：1件" in text
    assert (reviewers.city.phone, text) in LocmemBackend.outbox
    assert {r.status for r in Notification.objects.filter(kind="staff_digest")} == {"sent"}
    # Only city staff get it.
    assert {r.recipient_user_id for r in rows} == {reviewers.city.user_id}


def test_quiet_day_sends_nothing(campaign, reviewers):
    ApplicationFactory(campaign=campaign, status="pending_grassroots")
    assert send_staff_digest() == 0


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("boss", "b@example.org", "pw-long-enough-1")
    client.force_login(user)
    return client


def test_delivery_log_is_read_only_and_masks_phones(admin_client, campaign):
    app = ApplicationFactory(campaign=campaign, mobile="13912345678")
    row = Notification.objects.create(
        kind="applicant_status",
        channel="sms",
        recipient="13912345678",
        application=app,
        text="x",
        status=DeliveryStatus.SENT,
    )
    r = admin_client.get("/admin/notifications/notification/")
    html = r.content.decode()
    assert r.status_code == 200 and "139****5678" in html and "13912345678" not in html
    r = admin_client.get(f"/admin/notifications/notification/{row.pk}/change/")
    assert r.status_code == 200 and "13912345678" not in r.content.decode()
    admin_client.post(f"/admin/notifications/notification/{row.pk}/change/", {"text": "改"})
    row.refresh_from_db()
    assert row.text == "x"
    assert admin_client.get("/admin/notifications/notification/add/").status_code == 403


def test_staff_edit_district_hotlines_in_the_admin(admin_client, tree):
    r = admin_client.get("/admin/notifications/districthotline/")
    html = r.content.decode()
    assert "越秀区总工会" in html and "越秀区甲公司工会" not in html
    r = admin_client.post(
        f"/admin/notifications/districthotline/{tree.yuexiu.pk}/change/", {"hotline": "87370161"}
    )
    assert r.status_code == 302
    tree.yuexiu.refresh_from_db()
    assert tree.yuexiu.hotline == "87370161"


def test_periodic_tasks_listed_in_admin(admin_client):
    html = admin_client.get("/admin/django_celery_beat/periodictask/").content.decode()
    assert "notification-sweeper" in html and "daily-staff-digest" in html
