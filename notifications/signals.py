"""Every status change of an application puts its messages in the outbox, in the same
transaction: django-fsm's `post_transition` for single rows, `applications_transitioned`
for bulk changes (allocation)."""

from django.db.models import prefetch_related_objects
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
def on_bulk_transition(sender, entries, **kwargs):
    # Allocation moves thousands of rows at once: load their unions, districts, campaigns,
    # members and WeChat bindings in a few batched queries, not per row.
    entries = [e for e in entries if e[0].pk is not None]
    apps = [e[0] for e in entries]
    prefetch_related_objects(apps, "union__district", "campaign", "member__user")
    bindings = messages.bindings_for(apps)
    rows = []
    for application, name, source, target, _actor, reason in entries:
        rows.extend(
            messages.for_transition(application, name, source, target, reason, bindings=bindings)
        )
    delivery.enqueue(rows)
