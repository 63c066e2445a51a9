"""The registry SLA: median and p95 time to result, overdue count, the alert and the list."""

import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from registry import sla
from registry.tasks import sweep_pending_registry_checks
from subsidy.models import Application

pytestmark = pytest.mark.django_db


def _checked(pending_app, minutes):
    app = pending_app(status="pending_grassroots")
    now = timezone.now()
    Application.objects.filter(pk=app.pk).update(
        submitted_at=now - timedelta(minutes=minutes), registry_checked_at=now
    )
    return app


def _waiting(pending_app, hours):
    app = pending_app()
    Application.objects.filter(pk=app.pk).update(
        submitted_at=timezone.now() - timedelta(hours=hours),
        registry_dispatched_at=timezone.now(),
    )
    return app


def test_figures_median_p95_and_overdue(pending_app, campaign):
    for minutes in range(1, 21):  # 1 … 20 minutes
        _checked(pending_app, minutes)
    _checked(pending_app, 180)  # a late result
    _waiting(pending_app, 0.5)
    overdue = _waiting(pending_app, 2.5)
    f = sla.sla_figures(campaign)
    assert f.checked == 21
    assert f.median_seconds == pytest.approx(11 * 60, abs=2)
    assert f.p95_seconds == pytest.approx(20 * 60, abs=2)
    assert f.late_results == 1
    assert f.pending == 2
    assert f.overdue == 1 and f.breached
    assert list(sla.sla_breaches(campaign)) == [Application.objects.get(pk=overdue.pk)]


def test_sla_hours_come_from_the_campaign(pending_app, campaign):
    _waiting(pending_app, 2.5)
    campaign.registry_sla_hours = 3
    campaign.save()
    assert sla.sla_figures(campaign).overdue == 0


def test_sweeper_alerts_on_breach_with_a_warning_and_a_signal(pending_app, campaign, caplog, sim):
    app = _waiting(pending_app, 3)
    received = []

    def listener(sender, campaign, applications, **kwargs):
        received.append((campaign, list(applications)))

    sla.registry_sla_breached.connect(listener)
    try:
        with caplog.at_level(logging.WARNING, logger="registry.sla"):
            sweep_pending_registry_checks.apply()
    finally:
        sla.registry_sla_breached.disconnect(listener)
    assert "registry SLA breached: 1 application(s)" in caplog.text
    assert received and received[0][1][0].pk == app.pk


def test_no_alert_within_the_sla(pending_app, caplog):
    _waiting(pending_app, 1)
    with caplog.at_level(logging.WARNING, logger="registry.sla"):
        assert sla.alert_breaches() == 0
    assert "breached" not in caplog.text


def test_management_command_prints_the_figures(pending_app, campaign):
    _checked(pending_app, 10)
    _waiting(pending_app, 3)
    out = StringIO()
    call_command("registry_sla", stdout=out)
    text = out.getvalue()
    assert "校核用时中位数: 10.0 分钟" in text
    assert "超过 2 小时仍无结果: 1" in text


def test_admin_list_shows_only_overdue_applications(admin_client, pending_app, campaign):
    late = _waiting(pending_app, 3)
    fresh = _waiting(pending_app, 1)
    response = admin_client.get("/admin/registry/overdueregistrycheck/")
    assert response.status_code == 200
    text = response.content.decode()
    assert f">{late.queue_number}<" in text
    assert f">{fresh.queue_number}<" not in text
    assert late.name in text
    assert "超过 2 小时无结果 1" in text


def test_registry_sweep_command_redispatches_everything_pending(pending_app, sim):
    from tests.registry.conftest import add_record

    app = pending_app()
    add_record(sim, app)
    Application.objects.filter(pk=app.pk).update(registry_dispatched_at=timezone.now())
    out = StringIO()
    call_command("registry_sweep", "--all", stdout=out)
    assert "已重新派发 1 条" in out.getvalue()
    app.refresh_from_db()
    assert app.status == "pending_grassroots"


def test_overdue_list_is_for_staff_who_may_see_applications(client, django_user_model):
    staff = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/registry/overdueregistrycheck/").status_code == 403
