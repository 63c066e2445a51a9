"""Showing an unmasked ID or account number to a reviewer in scope — and logging it (SPEC §12).

The value is returned only after the PIIViewLog row (who, what, when, IP) is written, in the
same transaction: no log, no value."""

from django.db import transaction

from reviews.models import PIIViewLog
from subsidy.models import Application

REVEALABLE = {
    PIIViewLog.Field.ID_NUMBER: "id_number",
    PIIViewLog.Field.BANK_ACCOUNT: "bank_account",
}


class NotRevealable(Exception):
    pass


@transaction.atomic
def reveal(user, application_id, field: str, ip: str | None) -> str:
    """Return the plain value of `field`; raise Application.DoesNotExist outside scope."""
    if field not in REVEALABLE:
        raise NotRevealable(field)
    app = Application.objects.visible_to(user).get(pk=application_id)
    PIIViewLog.objects.create(user=user, application=app, field=field, ip=ip or None)
    return getattr(app, REVEALABLE[field])
