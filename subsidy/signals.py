"""Signals other apps listen to.

`applications_transitioned` is sent for status changes made in bulk, outside the single-row
django-fsm transitions (allocation's set-based UPDATE): `moves` is a list of
(application_id, transition_name, source, target), all made by `actor` for `reason`.
Single-row transitions send django-fsm's own `post_transition`.
"""

from django.dispatch import Signal

applications_transitioned = Signal()
