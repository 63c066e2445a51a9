"""The boundary between submission and the registry check (SPEC §5), and the sweeper.

Submission calls `dispatch_check(application_id)` inside its transaction; the check is queued
when that transaction commits. `registry_dispatched_at` records the last time a task message
was published (or, for a retry, when it falls due): an application still in `pending_chsi`
whose dispatch is older than REGISTRY_SWEEP_AFTER_SECONDS — or that was never dispatched
because the broker was down — has no live task, and `sweep()` sends it again. Sending twice
is harmless: the check is idempotent.

The hand-off is cheap for the web process, because it runs once per submission in the
opening rush, which is CPU-bound. A Celery publish costs ~1.6 ms of CPU; instead the commit
appends the id to a list in memory, and a thread of the process (`registry.handoff`)
pushes the ids committed in the last DELAY with one Redis round trip (a pipeline of two
commands) on the broker's Redis:

    RPUSH  PENDING_KEY <id> <id> …
    SET    DRAIN_FLAG_KEY 1 NX EX DRAIN_FLAG_TTL

and only the push whose SET succeeded publishes one `drain_registry_queue` task, with a
short countdown so that a burst of submissions shares it. The drain (in a worker, on a queue
of its own so a backlog of checks never holds it up) first DELETEs the flag, then pops the
list in batches and publishes one `check_registry` per id over one producer (`send_checks`),
so every check keeps its own retries, backoff and idempotency.

Why deleting the flag before popping loses nothing. A set flag stands for one drain that is
published (or being published) and has not yet deleted it. Take an id pushed at time t.
If the drain's DEL came after t, its pops — after its DEL — see the id. If the DEL came
before t, the pusher's SET (after its RPUSH) either succeeds, and it publishes a new drain,
or fails because another commit set the flag after that DEL — and that commit's drain has
not deleted it yet, so it pops after our SET, hence after our RPUSH. Either way some drain
pops the id after it was pushed. The other order (pop, then DEL) has a hole: an id pushed
after the last empty pop but before the DEL finds the flag still set, publishes nothing, and
waits for the next submission. The flag's expiry only ever adds drains (a stuck or lost one
is replaced by the next commit), never removes one that is needed.

What is left to the sweeper: Redis or the broker down at the push (the ids'
`registry_dispatched_at` is set back to NULL, so they are picked up after
REGISTRY_SWEEP_GRACE_SECONDS, as before); a web process killed before its thread pushed, or
a worker killed between popping a batch and publishing it (those ids carry their submission
time, so after REGISTRY_SWEEP_AFTER_SECONDS).
The periodic sweep task also drains the list, for ids whose drain could not be published.
Embedded mode (CELERY_TASK_ALWAYS_EAGER) and a broker that is not Redis publish per id as
before: `send_checks`.
"""

import logging
import threading
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.celery import app as celery_app
from config.celery import enqueue, task
from registry import conf
from registry.handoff import Handoff, at_exit
from subsidy.models import Application, ApplicationStatus

logger = logging.getLogger(__name__)

# The tasks this module sends (registry.tasks; sent by name: the tasks import this module).
CHECK_TASK = "subsidy.tasks.check_registry"
DRAIN_TASK = "subsidy.tasks.drain_registry_queue"
PENDING_KEY = "registry:pending"
DRAIN_FLAG_KEY = "registry:drain-scheduled"
# Submissions within this window share one drain: at most one publish per window however
# many submissions, and a check still starts well within a second.
DRAIN_COUNTDOWN = 0.25
# Longer than a drain normally waits to start; if one is lost the next commit replaces it.
DRAIN_FLAG_TTL = 5
DRAIN_BATCH = 500

_queues = {}  # by broker URL
_queues_lock = threading.Lock()
_current = (None, None)  # (Celery's broker pool, its DispatchQueue)


def dispatch_check(application_id: int, marked_at=None) -> None:
    """Queue the check when the current transaction commits. `marked_at`: the caller already
    wrote that time into `registry_dispatched_at` (submission does, in its INSERT), which
    saves the rush one UPDATE per application."""
    transaction.on_commit(lambda: _dispatch_committed(application_id, marked_at))


def _dispatch_committed(application_id: int, marked_at) -> None:
    queue = None if celery_app.conf.task_always_eager else dispatch_queue()
    if queue is None:  # embedded (checked inline) or a broker that is not Redis
        send_checks([application_id], marked_at=marked_at)
        return
    now = marked_at
    if now is None:
        now = _mark_dispatched([application_id])
    handoff.add(application_id, now)


def _push(batch) -> None:
    """The hand-off thread's push of [(id, marked_at)] (registry.handoff). Whatever
    fails, the ids are given to the sweeper (never left marked as queued)."""
    try:
        queue = None if celery_app.conf.task_always_eager else dispatch_queue()
        if queue is not None:
            queue.enqueue(list(dict.fromkeys(pk for pk, _ in batch)))
            return
    except Exception:
        _unmark_batch(batch)
        return
    for pk, marked_at in batch:  # the broker changed meanwhile (tests): one by one
        send_checks([pk], marked_at=marked_at)


handoff = Handoff(_push)
at_exit(handoff)


def drain(batch: int = DRAIN_BATCH) -> int:
    """Send a check for every id on the pending list; returns how many were sent."""
    queue = dispatch_queue()
    if queue is None:
        return 0
    client = queue.client
    client.delete(DRAIN_FLAG_KEY)  # before popping: see the module docstring
    sent = 0
    while raw := client.lpop(PENDING_KEY, batch):
        sent += send_checks(list(dict.fromkeys(int(pk) for pk in raw)))
    return sent


def dispatch_queue():
    """The pending list on the Redis that Celery writes task messages to — next to the task
    queues, and in the tests on each xdist worker's own broker database — or None when the
    broker is not one Redis."""
    global _current
    # Celery builds its broker pool again when the broker changes (and after a fork): the
    # URL is looked up then, not on every commit (broker_write_url costs ~45 µs to read).
    pool = celery_app.pool
    seen, queue = _current
    if seen is not pool:
        url = celery_app.conf.broker_write_url
        if not url or not url.startswith(("redis://", "rediss://")) or ";" in url:
            queue = None
        else:
            with _queues_lock:
                queue = _queues.get(url) or _queues.setdefault(url, DispatchQueue(url))
        _current = (pool, queue)
    return queue


class DispatchQueue:
    """One Redis holding the pending list and the drain flag."""

    def __init__(self, url: str):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        timeout = celery_app.conf.broker_connection_timeout or 2
        self.url = url
        # One retry, at once: a connection the server closed while idle is replaced; Redis
        # being down is raised without waiting — the request that just committed goes on.
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )

    def enqueue(self, ids) -> bool:
        """Push `ids` and make sure a drain is scheduled; True when this call published it.
        Sending a push twice is harmless (the drain de-duplicates its batch; the check is
        idempotent)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.rpush(PENDING_KEY, *ids)
        pipe.set(DRAIN_FLAG_KEY, 1, nx=True, ex=DRAIN_FLAG_TTL)
        _, scheduled = pipe.execute()
        if not scheduled:
            return False  # a drain is scheduled and has not started popping: it will see ours
        try:
            enqueue(DRAIN_TASK, countdown=DRAIN_COUNTDOWN)
        except Exception:
            # Let the next commit try again; ids already on the list wait for its drain or
            # for the periodic sweep task's.
            try:
                self.client.delete(DRAIN_FLAG_KEY)
            except Exception:
                pass  # it expires after DRAIN_FLAG_TTL
            raise
        return True


def send_checks(ids, countdown=None, marked_at=None) -> int:
    """Publish one check task per id; returns how many were sent. A broker that is down is
    logged, not raised, and the unsent ones are left for the sweeper."""
    check_registry = task(CHECK_TASK)
    ids = list(ids)
    if not ids:
        return 0
    now = marked_at
    if now is None:
        now = _mark_dispatched(ids)
    i = 0
    try:
        if check_registry.app.conf.task_always_eager:  # embedded: run inline, no broker
            for i, pk in enumerate(ids):  # noqa: B007 (i: where a failure stopped)
                check_registry.apply_async(args=[pk], countdown=countdown)
        else:
            # one broker connection for the whole batch (the sweeper may send thousands)
            with check_registry.app.producer_or_acquire() as producer:
                for i, pk in enumerate(ids):  # noqa: B007 (i: where a failure stopped)
                    check_registry.apply_async(args=[pk], countdown=countdown, producer=producer)
    except Exception:
        _unmark(ids[i:], now)
        return i
    return len(ids)


def _mark_dispatched(ids):
    now = timezone.now()
    Application.objects.filter(pk__in=ids, status=ApplicationStatus.PENDING_CHSI).update(
        registry_dispatched_at=now
    )
    return now


def _unmark(unsent, marked_at) -> None:
    """Not queued after all: NULL tells the sweeper to send these after its grace period.
    Called from an `except` block (the traceback goes to the log)."""
    _unmark_batch([(pk, marked_at) for pk in unsent])


def _unmark_batch(batch) -> None:
    """_unmark for [(id, marked_at)]."""
    by_time: dict = {}
    for pk, marked_at in batch:
        by_time.setdefault(marked_at, []).append(pk)
    for marked_at, ids in by_time.items():
        Application.objects.filter(pk__in=ids, registry_dispatched_at=marked_at).update(
            registry_dispatched_at=None
        )
    logger.warning(
        "could not queue registry checks for %d application(s); the sweeper will retry",
        len(batch),
        exc_info=True,
    )


def mark_retry_due(application_id: int, countdown: float) -> None:
    """A retry was scheduled: its message falls due after `countdown` seconds."""
    Application.objects.filter(pk=application_id).update(
        registry_dispatched_at=timezone.now() + timedelta(seconds=countdown)
    )


def stranded(now=None, stale_after=None, grace=None):
    """pending_chsi applications without a live task."""
    now = now or timezone.now()
    stale_after = conf.get("REGISTRY_SWEEP_AFTER_SECONDS") if stale_after is None else stale_after
    grace = conf.get("REGISTRY_SWEEP_GRACE_SECONDS") if grace is None else grace
    return Application.objects.in_status(ApplicationStatus.PENDING_CHSI).filter(
        Q(registry_dispatched_at__lt=now - timedelta(seconds=stale_after))
        | Q(
            registry_dispatched_at__isnull=True,
            submitted_at__lt=now - timedelta(seconds=grace),
        )
    )


def sweep(now=None, stale_after=None, grace=None, limit=None) -> int:
    """Re-dispatch stranded checks, oldest first; returns how many were sent."""
    limit = conf.get("REGISTRY_SWEEP_BATCH") if limit is None else limit
    ids = list(
        stranded(now, stale_after, grace)
        .order_by("submitted_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = send_checks(ids)
    if ids:
        logger.info("registry sweeper re-dispatched %d of %d stranded check(s)", sent, len(ids))
    return sent
