"""The outbox: a message row is written with the change that causes it, delivered once."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import DeliveryStatus, Notification, NotificationKind
from notifications.services import delivery
from notifications.tasks import deliver, sweep_outbox
from sms.backends import LocmemBackend
from subsidy.services.transitions import record_bulk_transitions
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def _reject(app, reviewer, reason="所学专业与工作岗位不相关"):
    with transaction.atomic():
        app.grassroots_reject(by=reviewer.user, reason=reason)
        app.save()


def test_status_change_writes_outbox_row_and_sends_sms(
    application, reviewers, sms_mode, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _reject(application, reviewers.grassroots_a)
    row = Notification.objects.get(application=application)
    assert row.kind == NotificationKind.APPLICANT_STATUS
    assert row.status == DeliveryStatus.SENT
    assert row.recipient == application.mobile
    assert "基层工会审核不通过" in row.text
    assert "所学专业与工作岗位不相关" in row.text
    assert "重新提交" in row.text  # what to do next
    assert "越秀区总工会 87370160" in row.text  # the district's hotline
    assert LocmemBackend.outbox == [(application.mobile, row.text)]


def test_rolled_back_change_leaves_no_message(
    application, reviewers, sms_mode, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                application.grassroots_reject(by=reviewers.grassroots_a.user, reason="不符合")
                application.save()
                raise RuntimeError("something later in the same change failed")
    assert not Notification.objects.exists()
    assert LocmemBackend.outbox == []


def test_opted_out_applicant_gets_nothing(
    campaign, member, reviewers, sms_mode, django_capture_on_commit_callbacks
):
    app = ApplicationFactory(
        campaign=campaign, member=member, status="pending_grassroots", notify_opt_in=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        _reject(app, reviewers.grassroots_a)
    assert not Notification.objects.filter(kind=NotificationKind.APPLICANT_STATUS).exists()
    assert LocmemBackend.outbox == []


def test_hotline_falls_back_to_campaign_when_district_has_none(
    campaign, tree, member, reviewers, sms_mode
):
    tree.yuexiu.hotline = ""
    tree.yuexiu.save()
    app = ApplicationFactory(campaign=campaign, member=member, status="pending_grassroots")
    app.refresh_from_db()
    _reject(app, reviewers.grassroots_a)
    assert "85571310、85524304" in Notification.objects.get().text


def test_grassroots_reviewers_of_the_union_get_an_sms_when_application_reaches_them(
    campaign, member, reviewers, sms_mode, django_capture_on_commit_callbacks
):
    app = ApplicationFactory(campaign=campaign, member=member, status="pending_chsi")
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            app.registry_pass()
            app.save()
    rows = Notification.objects.filter(kind=NotificationKind.GRASSROOTS_NEW)
    assert [r.recipient for r in rows] == [reviewers.grassroots_a.phone]
    assert "越秀区甲公司工会有新的职工学历教育补助申领待审核" in rows[0].text
    phones = [p for p, _ in LocmemBackend.outbox]
    assert reviewers.grassroots_a.phone in phones
    assert reviewers.grassroots_b.phone not in phones  # another union's reviewer
    assert app.mobile in phones  # and the applicant hears the registry passed


def test_inactive_or_phoneless_grassroots_reviewer_gets_no_sms(campaign, member, reviewers):
    reviewers.grassroots_a.active = False
    reviewers.grassroots_a.save()
    app = ApplicationFactory(campaign=campaign, member=member, status="pending_chsi")
    with transaction.atomic():
        app.registry_pass()
        app.save()
    assert not Notification.objects.filter(kind=NotificationKind.GRASSROOTS_NEW).exists()


def test_bulk_transitions_are_notified(
    campaign, member, sms_mode, django_capture_on_commit_callbacks
):
    app = ApplicationFactory(campaign=campaign, member=member, status="approved")
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            type(app).objects.filter(pk=app.pk).update(status="funded")
            app.status = "funded"
            record_bulk_transitions([(app.pk, "fund", "approved", "funded")])
    row = Notification.objects.get(application=app)
    assert "拟获补助" in row.text and row.status == DeliveryStatus.SENT


def test_wechat_binding_routes_to_wechat_else_sms_fallback(campaign, tree, reviewers, settings):
    from notifications.models import Channel, WeChatBinding
    from tests.factories import MemberFactory

    settings.NOTIFICATION_CHANNEL = "wechat"
    bound, unbound = MemberFactory(union=tree.a1), MemberFactory(union=tree.a1)
    WeChatBinding.objects.create(user=bound.user, openid="oAbCdEfGhIjKlMnOpQrStUvWxYz")
    for m in (bound, unbound):
        app = ApplicationFactory(campaign=campaign, member=m, status="pending_grassroots")
        _reject(app, reviewers.grassroots_a)
    rows = {r.application.member_id: r for r in Notification.objects.all()}
    assert rows[bound.pk].channel == Channel.WECHAT
    assert rows[bound.pk].recipient == "oAbCdEfGhIjKlMnOpQrStUvWxYz"
    assert rows[bound.pk].data["phrase2"]["value"]  # template data filled
    assert rows[unbound.pk].channel == Channel.SMS
    assert rows[unbound.pk].recipient == unbound.mobile


# --- delivery ---------------------------------------------------------------------------------


def _row(application, channel="sms"):
    return Notification.objects.create(
        kind=NotificationKind.APPLICANT_STATUS,
        channel=channel,
        recipient=application.mobile,
        application=application,
        text="测试消息",
    )


def test_channel_failure_is_retried_with_backoff(application, recording):
    recording.fail = 1
    row = _row(application)
    assert deliver(row.pk) == DeliveryStatus.PENDING
    row.refresh_from_db()
    assert row.attempts == 1 and "通道暂时不可用" in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=20)  # backoff
    assert recording.sent == []
    assert sweep_outbox() == 0  # not due yet
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert sweep_outbox() == 1  # the sweeper redelivers
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    assert len(recording.sent) == 1


def test_gives_up_after_max_attempts(application, recording):
    from notifications import conf

    recording.fail = 100
    row = _row(application)
    for _ in range(conf.MAX_ATTEMPTS):
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        deliver(row.pk)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and row.attempts == conf.MAX_ATTEMPTS


def test_permanent_error_is_not_retried(application, recording):
    from notifications.channels import PermanentChannelError

    recording.fail, recording.error = 1, PermanentChannelError
    row = _row(application)
    assert deliver(row.pk) == DeliveryStatus.FAILED
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert sweep_outbox() == 0
    assert recording.sent == []


def test_task_delivered_twice_sends_once(application, recording):
    row = _row(application)
    assert deliver(row.pk) == DeliveryStatus.SENT
    # acks_late: the worker died after marking sent but before acknowledging; redelivery:
    assert deliver(row.pk) == "skipped"
    assert sweep_outbox() == 0
    assert len(recording.sent) == 1


class WorkerDied(BaseException):
    """Stands for the process being killed: not an Exception, nothing catches it."""


def test_worker_crash_after_sending_does_not_send_twice(application, recording, monkeypatch):
    row = _row(application)

    def die(*args, **kwargs):
        raise WorkerDied

    monkeypatch.setattr(delivery, "mark_sent", die)
    with pytest.raises(WorkerDied):
        deliver(row.pk)
    monkeypatch.undo()
    assert len(recording.sent) == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENDING
    # While the lease runs, nobody else takes it.
    assert deliver(row.pk) == "skipped"
    # Lease expired: the sweeper finds it, and it is *not* sent again: the outcome is unknown.
    Notification.objects.filter(pk=row.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert sweep_outbox() == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.UNCONFIRMED
    assert len(recording.sent) == 1
    # Staff may resend deliberately: a new row with a new key.
    copy = delivery.resend(row)
    deliver(copy.pk)
    assert len(recording.sent) == 2 and copy.key != row.key


def test_crash_after_send_with_check_before_send_channel_marks_sent(
    application, settings, tmp_path, monkeypatch
):
    settings.NOTIFICATION_FILE_PATH = str(tmp_path / "out")
    row = _row(application, channel="file")
    monkeypatch.setattr(delivery, "mark_sent", lambda *a, **k: (_ for _ in ()).throw(WorkerDied))
    with pytest.raises(WorkerDied):
        deliver(row.pk)
    monkeypatch.undo()
    files = list((tmp_path / "out").iterdir())
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    Notification.objects.filter(pk=row.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert sweep_outbox() == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT  # the channel confirmed it had it
    assert files[0].stat().st_mtime_ns == mtime and len(list((tmp_path / "out").iterdir())) == 1


def test_stranded_row_is_picked_up_by_the_sweeper(application, recording):
    """The broker was down at commit time: the row exists, no task was queued."""
    row = _row(application)
    assert sweep_outbox() == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and len(recording.sent) == 1


def test_periodic_jobs_are_visible_to_staff():
    from django_celery_beat.models import PeriodicTask

    tasks = dict(PeriodicTask.objects.values_list("task", "enabled"))
    assert tasks["notifications.tasks.sweep_outbox"] is True
    assert tasks["notifications.tasks.send_staff_digest"] is True


def test_bulk_transition_of_many_rows_uses_batched_queries(campaign, tree, settings):
    """The query count of a bulk transition does not grow with the number of rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.models import WeChatBinding
    from tests.factories import MemberFactory

    settings.NOTIFICATION_CHANNEL = "wechat"

    def make(n):
        apps = [
            ApplicationFactory(campaign=campaign, member=MemberFactory(union=u), status="approved")
            for u in (tree.a1, tree.a2, tree.b1, tree.i1) * n
        ]
        fresh = list(type(apps[0]).objects.filter(pk__in=[a.pk for a in apps]))
        for a in fresh:
            a.status = "funded"
        return apps, fresh

    def count_queries(fresh):
        with CaptureQueriesContext(connection) as ctx:
            with transaction.atomic():
                record_bulk_transitions([(a.pk, "fund", "approved", "funded") for a in fresh])
        return len(ctx.captured_queries)

    warm_apps, warm = make(1)
    count_queries(warm)  # first use fills per-process caches (content types and the like)
    small_apps, small = make(1)
    WeChatBinding.objects.create(user=small_apps[0].member.user, openid="oBulkOpenIdSmall")
    apps, fresh = make(5)
    WeChatBinding.objects.create(user=apps[0].member.user, openid="oBulkOpenId0001")
    assert count_queries(small) == count_queries(fresh)  # 4 rows and 20 rows alike
    Notification.objects.filter(application__in=small_apps + warm_apps).delete()
    rows = Notification.objects.filter(kind=NotificationKind.APPLICANT_STATUS)
    assert rows.count() == 20
    assert rows.filter(channel="wechat", recipient="oBulkOpenId0001").count() == 1


@pytest.mark.parametrize("channel", ["sms", "wechat"])
def test_bulk_notices_say_what_single_transitions_say(campaign, tree, settings, channel):
    """Allocation's plain-row notices (`for_moves`, written by COPY) carry the same channel,
    recipient, text and template data as `for_transition` builds for the same change; an
    applicant who opted out gets none."""
    from notifications.models import WeChatBinding
    from notifications.services import delivery, messages
    from tests.factories import MemberFactory

    settings.NOTIFICATION_CHANNEL = channel
    bound, plain, silent = (MemberFactory(union=u) for u in (tree.a1, tree.b1, tree.i1))
    WeChatBinding.objects.create(user=bound.user, openid="oSameAsSingle0001")
    apps = [
        ApplicationFactory(
            campaign=campaign, member=m, status="approved", notify_opt_in=m != silent
        )
        for m in (bound, plain, silent)
    ]
    with transaction.atomic():
        ids = delivery.enqueue_rows(
            messages.MOVE_COLUMNS,
            messages.for_moves([(a.pk, "fund", "approved", "funded") for a in apps], "名额分配"),
        )
    assert len(ids) == 2
    fields = ("kind", "channel", "recipient", "recipient_user_id", "transition", "subject")
    fields += ("text", "template_id", "status", "attempts")
    for app in apps[:2]:
        bulk = Notification.objects.get(application=app)
        single = messages.for_transition(app, "fund", "approved", "funded", "名额分配")[0]
        assert [getattr(bulk, f) for f in fields] == [getattr(single, f) for f in fields]
        assert bulk.data.keys() == single.data.keys()
        assert bulk.key and bulk.next_attempt_at and bulk.created_at
    assert Notification.objects.get(application=apps[0]).channel == channel
    assert not Notification.objects.filter(application=apps[2]).exists()
