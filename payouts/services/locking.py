"""The per-campaign lock that serialises every change to who is funded (R2, R3, R7).

Allocation, publication, revocation (with its promotion) and batch creation all take it inside
their transaction, as late as possible and before they read the rows they rank or count. On
PostgreSQL it is a transaction-scoped advisory lock keyed by the campaign id, so it never blocks
intake's row lock on the campaign (R1 counter). On SQLite a write transaction is already
exclusive (BEGIN IMMEDIATE, see settings), which serialises the same way.

The test hook `payouts_allocation_lock` off (testhooks) switches the lock off; only the control
tests do that, to show the race the lock prevents.
"""

from django.db import connection

import testhooks

_NAMESPACE = 727_006


def lock_campaign(campaign_id: int) -> None:
    """Block until this transaction holds the campaign's payout lock (released at commit)."""
    if not testhooks.on("payouts_allocation_lock"):
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_NAMESPACE, campaign_id])
