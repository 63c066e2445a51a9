"""Putting messages in the outbox and delivering them.

What is guaranteed (exactly-once end-to-end is impossible: a process can die between the
provider accepting a message and our database learning that it did):

* **Never lost silently.** A row is written in the transaction that makes the change; the
  delivery task is queued after commit, and `sweep_outbox` re-queues any due row whose task
  was lost (broker down, worker killed before it claimed the row).
* **Never sent twice by us.** A worker first *claims* the row — one UPDATE that moves it to
  `sending` with a fresh claim token and a lease, and succeeds for one claimant only. After
  the channel accepts, a second UPDATE guarded by that token marks it `sent`. So:
  a task delivered twice (acks_late redelivery after a crash after marking), a sweeper racing
  a worker, or two workers — only one claim wins and a `sent` row is never claimed again.
* **The window.** If the worker dies after the channel call started and before `sent` is
  written, the row stays `sending` until its lease runs out; we cannot know whether the
  message left. Then: channels that can answer "was message <key> sent?" (`already_sent`,
  check-before-send; the file channel, any provider with client-side message ids) are asked
  and the row is marked `sent` without sending; channels that cannot (WeChat, plain SMS) are
  *not* sent again — the row becomes `unconfirmed` (发送结果待核实), counted in the staff
  digest and listed in the admin delivery log, where staff may resend deliberately. A provider
  read timeout is treated the same way. Ordinary errors (nothing was sent) retry with
  exponential backoff up to MAX_ATTEMPTS, then `failed`; a permanent error (WeChat 43101,
  the user refused) fails at once.

That is: at-least-once for every failure where we know nothing left, at-most-once where we
cannot know.
"""

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

import testhooks
from config import celery as tasks_broker
from notifications import conf
from notifications.channels import (
    AmbiguousDelivery,
    ChannelError,
    PermanentChannelError,
    get_channel,
)
from notifications.models import DeliveryStatus as D
from notifications.models import Notification

log = logging.getLogger(__name__)


def enqueue(rows: list[Notification]) -> list[Notification]:
    """Save outbox rows in the caller's transaction and queue delivery after commit."""
    if not rows:
        return []
    with transaction.atomic():
        saved = Notification.objects.bulk_create(rows)
    _deliver_after_commit([n.pk for n in saved])
    return saved


def enqueue_rows(columns: list[str], rows: list[tuple]) -> list[int]:
    """`enqueue` for outbox rows given as plain values (`messages.for_moves`): written in one
    COPY on PostgreSQL, delivered after commit the same way. Returns their ids."""
    from subsidy.services.bulk_rows import insert_rows

    with transaction.atomic():
        ids = insert_rows(Notification, columns, rows, with_ids=True)
    _deliver_after_commit(ids)
    return ids


def _deliver_after_commit(ids):
    for i in range(0, len(ids), 200):
        tasks_broker.enqueue_on_commit("notifications.tasks.deliver_many", ids[i : i + 200])


def claim(pk, now=None):
    """Take the row for delivery: one winner among any number of workers and sweepers.
    Returns (notification, ambiguous) or (None, False). `ambiguous` is True when the row's
    previous holder's lease ran out while it was sending."""
    now = now or timezone.now()
    token = uuid.uuid4()
    due = Q(status=D.PENDING, next_attempt_at__lte=now) | Q(status=D.SENDING, lease_until__lt=now)
    if not testhooks.on("notification_claim_locking"):
        # Control tests only: read-then-write without the row lock, to show the race exists.
        row = Notification.objects.filter(due, pk=pk).first()
        if row is None:
            return None, False
        testhooks.pause("notification_claim_delay")
        Notification.objects.filter(pk=pk).update(status=D.SENDING, claim_token=token)
        row.refresh_from_db()
        return row, False
    with transaction.atomic():
        row = Notification.objects.select_for_update(skip_locked=True).filter(due, pk=pk).first()
        if row is None:
            return None, False
        ambiguous = row.status == D.SENDING
        Notification.objects.filter(pk=pk).update(
            status=D.SENDING,
            claim_token=token,
            lease_until=now + timedelta(seconds=conf.LEASE_SECONDS),
            attempts=F("attempts") + (0 if ambiguous else 1),
        )
    row.refresh_from_db()
    return row, ambiguous


def _finish(row, **fields) -> bool:
    """Write the outcome only if we still hold the claim."""
    return bool(
        Notification.objects.filter(pk=row.pk, claim_token=row.claim_token).update(**fields)
    )


def mark_sent(row, message_id=""):
    return _finish(
        row,
        status=D.SENT,
        sent_at=timezone.now(),
        channel_message_id=message_id[:128],
        lease_until=None,
        last_error="",
    )


def deliver(pk) -> str:
    """Deliver one outbox row; safe to call any number of times. Returns the row's status
    afterwards (or "skipped" when another worker holds it or it is finished)."""
    row, ambiguous = claim(pk)
    if row is None:
        return "skipped"
    channel = get_channel(row.channel)
    if ambiguous:
        found = channel.already_sent(row)
        if found is not None:
            mark_sent(row, found)
            return D.SENT
        _finish(row, status=D.UNCONFIRMED, lease_until=None, last_error="发送过程中断，结果未知")
        log.warning("notification %s: delivery outcome unknown, not resending", row.key)
        return D.UNCONFIRMED
    try:
        message_id = channel.send(row)
    except PermanentChannelError as exc:
        _finish(row, status=D.FAILED, lease_until=None, last_error=str(exc)[:300])
        return D.FAILED
    except AmbiguousDelivery as exc:
        _finish(row, status=D.UNCONFIRMED, lease_until=None, last_error=str(exc)[:300])
        return D.UNCONFIRMED
    except ChannelError as exc:
        return _schedule_retry(row, str(exc))
    mark_sent(row, message_id or "")
    return D.SENT


def _schedule_retry(row, error):
    if row.attempts >= conf.MAX_ATTEMPTS:
        _finish(row, status=D.FAILED, lease_until=None, last_error=error[:300])
        return D.FAILED
    delay = conf.backoff_seconds(row.attempts)
    _finish(
        row,
        status=D.PENDING,
        lease_until=None,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        last_error=error[:300],
    )
    try:
        tasks_broker.enqueue("notifications.tasks.deliver", row.pk, countdown=delay)
    except Exception:  # broker down: the sweeper picks the row up when it is due
        log.warning("could not queue retry of notification %s", row.pk, exc_info=True)
    return D.PENDING


def due_ids(now=None, limit=500) -> list[int]:
    """Rows the sweeper should (re)dispatch: pending and due, or sending past their lease."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            Q(status=D.PENDING, next_attempt_at__lte=now) | Q(status=D.SENDING, lease_until__lt=now)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def resend(notification) -> Notification:
    """Staff's deliberate resend of an unconfirmed or failed message: a new row, new key."""
    copy = Notification(
        kind=notification.kind,
        channel=notification.channel,
        recipient=notification.recipient,
        recipient_user_id=notification.recipient_user_id,
        application_id=notification.application_id,
        transition=notification.transition,
        subject=notification.subject,
        text=notification.text,
        template_id=notification.template_id,
        data=notification.data,
    )
    return enqueue([copy])[0]
