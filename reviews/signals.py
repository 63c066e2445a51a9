"""Every transition of an application appends to the audit chain, in the same transaction."""

from django.dispatch import receiver
from django_fsm.signals import post_transition

from reviews.services import audit
from subsidy.models import Application


@receiver(post_transition, sender=Application, dispatch_uid="reviews.audit_transition")
def audit_transition(sender, instance, name, source, target, method_kwargs=None, **kwargs):
    if kwargs.get("exception") is not None:
        return
    method_kwargs = method_kwargs or {}
    audit.append(
        instance,
        name,
        source,
        target,
        actor=method_kwargs.get("by"),
        reason=method_kwargs.get("reason", ""),
    )
