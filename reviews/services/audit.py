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
from subsidy.services.bulk_rows import insert_rows

GENESIS = "0" * 64
_AUDIT_LOCK_KEY = 727_001


def record_hash(prev_hash: str, fields: dict) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def hashed_fields(r: AuditRecord) -> dict:
    return _hashed(
        r.seq,
        r.application_id,
        r.transition,
        r.from_status,
        r.to_status,
        r.actor_id,
        r.actor_name,
        r.level,
        r.union_id,
        r.reason,
        r.ip,
        r.created_at,
    )


def _hashed(
    seq, application, transition, source, target, actor, name, level, union, reason, ip, at
):
    return {
        "seq": seq,
        "application": application,
        "transition": transition,
        "from": source,
        "to": target,
        "actor": actor,
        "actor_name": name,
        "level": level,
        "union": union,
        "reason": reason,
        "ip": ip,
        "at": at.isoformat(),
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
    """Append several records in order, one per entry
    (application, transition_name, from_status, to_status, actor, reason)."""
    _lock()
    head, seq, prev = _head()
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
    _move_head(head, seq, prev)
    return records


@transaction.atomic
def append_moves(moves, actor=None, reason="", when=None) -> int:
    """Append one record per (application_id, transition_name, from_status, to_status), all by
    the same actor for the same reason, written as plain rows: the path for allocation, which
    may move every approved application of a campaign at once. The same chain, the same
    hashes as `append_many`. Returns the number of records."""
    if not moves:
        return 0
    _lock()
    head, seq, prev = _head()
    when = when or timezone.now()
    ip = _normalise_ip(current_ip())
    actor_name, level, union = actor_details(actor)
    actor_id = actor.pk if actor is not None else None
    union_id = union.pk if union is not None else None
    reason = reason or ""
    rows = []
    for application_id, name, source, target in moves:
        seq += 1
        values = (seq, application_id, name, source, target, actor_id, actor_name, level)
        values += (union_id, reason, ip, when)
        digest = record_hash(prev, _hashed(*values))
        rows.append((*values, prev, digest))
        prev = digest
    insert_rows(AuditRecord, _ROW_COLUMNS, rows)
    _move_head(head, seq, prev)
    return len(rows)


# The record's columns in `_hashed`'s argument order, then the two hashes.
_ROW_COLUMNS = [
    "seq",
    "application_id",
    "transition",
    "from_status",
    "to_status",
    "actor_id",
    "actor_name",
    "level",
    "union_id",
    "reason",
    "ip",
    "created_at",
    "prev_hash",
    "hash",
]


def _head() -> tuple[int, int, str]:
    """(head row id, last seq, last hash) of the chain, the head row locked until the caller's
    commit."""
    head = ChainHead.objects.select_for_update().order_by("pk").first()
    if head is None:
        last = AuditRecord.objects.order_by("-seq").values_list("seq", "hash").first()
        head = ChainHead.objects.create(
            seq=last[0] if last else 0, hash=last[1] if last else GENESIS
        )
    return head.pk, head.seq, head.hash


def _move_head(head, seq, digest):
    ChainHead.objects.filter(pk=head).update(seq=seq, hash=digest)


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
