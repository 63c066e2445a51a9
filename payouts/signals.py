"""City approval → allocation (coalesced, after commit)."""

from django.dispatch import receiver
from django_fsm.signals import post_transition

from payouts.services.trigger import request_allocation
from subsidy.models import Application, ApplicationStatus


@receiver(post_transition, sender=Application, dispatch_uid="payouts.allocate_after_approval")
def allocate_after_city_approval(sender, instance, name, source, target, **kwargs):
    if kwargs.get("exception") is not None or target != ApplicationStatus.APPROVED:
        return
    request_allocation(instance.campaign_id)
