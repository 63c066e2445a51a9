"""Recording status changes made in bulk, so they are audited and notified like single ones."""

from django.db import transaction

from subsidy.signals import applications_transitioned


@transaction.atomic
def record_bulk_transitions(moves, actor=None, reason="") -> int:
    """moves: [(application_id, transition_name, source, target), ...], already written by a
    set-based statement, all by `actor` for `reason`. Appends one audit record per move and
    tells listeners (notifications), in the caller's transaction. Returns the number of
    records."""
    from reviews.services import audit

    if not moves:
        return 0
    count = audit.append_moves(moves, actor=actor, reason=reason)
    applications_transitioned.send(sender=None, moves=moves, actor=actor, reason=reason)
    return count
