"""Every status change of an application puts its messages in the outbox, in the same
transaction: django-fsm's `post_transition` for single rows, `applications_transitioned`
for bulk changes (allocation)."""

from django.dispatch import receiver
from django_fsm.signals import post_transition

from notifications.services import delivery, messages
from subsidy.models import Application
from subsidy.signals import applications_transitioned


@receiver(post_transition, sender=Application, dispatch_uid="notifications.on_transition")
def on_transition(sender, instance, name, source, target, method_kwargs=None, **kwargs):
    if kwargs.get("exception") is not None or instance.pk is None:
        return  # a failed transition, or an unsaved object: nothing happened to tell about
    reason = (method_kwargs or {}).get("reason", "")
    delivery.enqueue(messages.for_transition(instance, name, source, target, reason))


@receiver(applications_transitioned, dispatch_uid="notifications.on_bulk_transition")
def on_bulk_transition(sender, moves, reason="", **kwargs):
    # Allocation may move every approved application at once: the rows are built from a few
    # batched reads and written in one COPY, never as one model instance per notice.
    delivery.enqueue_rows(messages.MOVE_COLUMNS, messages.for_moves(moves, reason))
