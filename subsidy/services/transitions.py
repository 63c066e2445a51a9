"""Recording status changes made in bulk, so they are audited and notified like single ones."""

from django.db import transaction

from subsidy.signals import applications_transitioned


@transaction.atomic
def record_bulk_transitions(entries):
    """entries: [(application, transition_name, source, target, actor, reason), ...].
    Appends the audit records and tells listeners (notifications), in the caller's
    transaction."""
    from reviews.services import audit

    if not entries:
        return []
    records = audit.append_many(entries)
    applications_transitioned.send(sender=None, entries=entries)
    return records
