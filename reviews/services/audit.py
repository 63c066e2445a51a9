"""Appending to the audit hash chain.

Appends are serialised (a transaction-scoped advisory lock on PostgreSQL; SQLite's immediate
write transactions serialise by themselves) so each record links to exactly one predecessor.
Call inside the transaction that makes the change: a rolled-back change leaves no record.
"""

import hashlib
import json

from django.db import connection, transaction
from django.utils import timezone

from reviews.models import AuditRecord
from subsidy.request_context import current_ip

GENESIS = "0" * 64
_AUDIT_LOCK_KEY = 727_001


def record_hash(prev_hash: str, fields: dict) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def hashed_fields(r: AuditRecord) -> dict:
    return {
        "seq": r.seq,
        "application": r.application_id,
        "transition": r.transition,
        "from": r.from_status,
        "to": r.to_status,
        "actor": r.actor_id,
        "actor_name": r.actor_name,
        "level": r.level,
        "union": r.union_id,
        "reason": r.reason,
        "ip": r.ip,
        "at": r.created_at.isoformat(),
    }


def _lock():
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_KEY])


def actor_details(user):
    """(name, level, union) of the acting user, for the record."""
    if user is None:
        return "系统", "system", None
    reviewer = getattr(user, "reviewer", None)
    if reviewer is not None:
        return reviewer.name, reviewer.level, reviewer.managed_unions.order_by("depth").first()
    member = getattr(user, "member", None)
    if member is not None:
        return member.name, "applicant", member.union
    return user.get_username(), "staff", None


def append(
    application, transition_name, from_status, to_status, actor=None, reason="", when=None
) -> AuditRecord:
    return append_many(
        [(application, transition_name, from_status, to_status, actor, reason)], when=when
    )[0]


@transaction.atomic
def append_many(entries, when=None) -> list[AuditRecord]:
    """Append several records in order (allocation writes one per moved application)."""
    _lock()
    last = AuditRecord.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev = last if last else (0, GENESIS)
    when = when or timezone.now()
    ip = current_ip()
    records = []
    for application, name, source, target, actor, reason in entries:
        actor_name, level, union = actor_details(actor)
        seq += 1
        r = AuditRecord(
            seq=seq,
            application=application,
            transition=name,
            from_status=source,
            to_status=target,
            actor=actor,
            actor_name=actor_name,
            level=level,
            union=union,
            reason=reason or "",
            ip=ip,
            created_at=when,
            prev_hash=prev,
        )
        r.hash = record_hash(prev, hashed_fields(r))
        prev = r.hash
        records.append(r)
    AuditRecord.objects.bulk_create(records)
    return records
