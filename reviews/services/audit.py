"""Appending to the audit hash chain, and checking it.

Appends are serialised (a transaction-scoped advisory lock on PostgreSQL, then the chain-head
row locked FOR UPDATE; SQLite's write transactions serialise by themselves) so each record
links to exactly one predecessor and sequence numbers have no gaps. Call inside the transaction
that makes the change: a rolled-back change leaves no record. The lock is the last one a
transition takes (after the application's row lock), so it cannot deadlock with them, and it is
held only until that transaction commits — keep those transactions short.
"""

import hashlib
import ipaddress
import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from reviews.models import AuditRecord, ChainHead
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
    head = ChainHead.objects.select_for_update().order_by("pk").first()
    if head is None:
        last = AuditRecord.objects.order_by("-seq").values_list("seq", "hash").first()
        head = ChainHead.objects.create(
            seq=last[0] if last else 0, hash=last[1] if last else GENESIS
        )
    seq, prev = head.seq, head.hash
    when = when or timezone.now()
    ip = _normalise_ip(current_ip())
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
    ChainHead.objects.filter(pk=head.pk).update(seq=seq, hash=prev)
    return records


def _normalise_ip(ip):
    """Store the address as the database will hand it back, so the hash verifies later."""
    if not ip:
        return None
    try:
        return ipaddress.ip_address(ip.strip()).compressed
    except ValueError:
        return None


@dataclass
class ChainProblem:
    seq: int
    kind: str  # "altered" | "removed"
    detail: str

    def __str__(self):
        return self.detail


def verify_chain(chunk_size: int = 2000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in order; return (records checked, the first problem or None)."""
    expected_seq, prev = 1, GENESIS
    checked = 0
    qs = AuditRecord.objects.order_by("seq")
    for r in qs.iterator(chunk_size=chunk_size):
        if r.seq != expected_seq:
            return checked, ChainProblem(
                expected_seq, "removed", f"审核记录 #{expected_seq} 已被删除（链在此处断开）"
            )
        if record_hash(r.prev_hash, hashed_fields(r)) != r.hash:
            return checked, ChainProblem(r.seq, "altered", f"审核记录 #{r.seq} 的内容已被篡改")
        if r.prev_hash != prev:
            return checked, ChainProblem(
                r.seq - 1, "altered", f"审核记录 #{r.seq - 1} 已被篡改（其哈希与后一条记录不符）"
            )
        prev = r.hash
        expected_seq += 1
        checked += 1
    head = ChainHead.objects.order_by("pk").first()
    if head is not None and head.seq >= expected_seq:
        return checked, ChainProblem(
            expected_seq, "removed", f"审核记录 #{expected_seq} 至 #{head.seq} 已被删除（链尾缺失）"
        )
    if head is not None and head.seq == expected_seq - 1 and head.hash != prev:
        return checked, ChainProblem(
            head.seq, "altered", f"审核记录 #{head.seq} 已被篡改（与链头哈希不符）"
        )
    return checked, None
