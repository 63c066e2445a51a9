"""CPU of one submission's registry dispatch: what its on-commit callback costs the web
process, against a real Redis broker and no worker — one Celery publish per id (as at
first), the pending list pushed by each commit (before), and the pending list pushed in
batches by the process's hand-off thread (now: its CPU counted too). Only the callbacks are timed (the transaction
around them is the same whatever they do), with time.process_time. Also: what the drain's
publish of the checks costs the worker, per id.

    make bench BENCH=dispatch

or on its own, with N dispatches and ROUNDS rounds:

    REDIS_URL=redis://127.0.0.1:6379/13 CELERY_BROKER_URL=redis://127.0.0.1:6379/15 \
        .venv/bin/python -m tests.perf.bench_dispatch [N] [ROUNDS]

It deletes what it queued (the broker queues and the pending list) from that database.
"""

import os
import sys
import time
from unittest import mock

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def run(report):
    best = measure()
    area = "dispatch"
    before, after = best["per-id publish"], best["pending list"]
    report.row(
        area, "on-commit hand-off, one Celery publish per id (first)", before * 1e3, "ms CPU"
    )
    report.row(
        area,
        "on-commit hand-off, pending list pushed by each commit (before)",
        best["push per commit"] * 1e3,
        "ms CPU",
    )
    report.row(
        area,
        "on-commit hand-off, pending list pushed in batches by a thread (now)",
        after * 1e3,
        "ms CPU",
        "",
        "request and thread together, one process, no other load",
    )
    report.row(area, "hand-off CPU saved per submission (ratio, first / now)", before / after, "×")
    report.row(
        area,
        "drain's publish per id, in the worker",
        best["drain's batched publish (worker)"] * 1e3,
        "ms CPU",
    )


def main(n=500, rounds=5):
    import django

    django.setup()
    for name, cpu in measure(n, rounds).items():
        print(f"best of {rounds}, {name}: {cpu * 1e3:.3f} ms CPU per dispatch")


def measure(n=500, rounds=5):
    import redis
    from django.utils import timezone

    from config.celery import app
    from registry import pipeline

    broker = app.conf.broker_url
    if not broker or app.conf.task_always_eager:
        sys.exit("needs CELERY_BROKER_URL (a Redis database of its own)")
    r = redis.Redis.from_url(broker)
    keys = ["celery", "registry-dispatch", pipeline.PENDING_KEY, pipeline.DRAIN_FLAG_KEY]

    def clear():
        r.delete(*[k for k in keys if k])

    clear()
    now = timezone.now()

    def per_id_publish(pk):  # the callback before the pending list: one Celery publish
        return lambda: pipeline.send_checks([pk], marked_at=now)

    def push_per_commit(pk):  # the pending list pushed by each commit itself (before)
        return lambda: pipeline.dispatch_queue().enqueue([pk])

    def pending_list(pk):  # now: appended, pushed in batches by the hand-off thread
        callbacks = []
        with mock.patch("django.db.transaction.on_commit", callbacks.append):
            pipeline.dispatch_check(pk, marked_at=now)
        return callbacks[0]

    variants = (
        ("per-id publish", per_id_publish),
        ("push per commit", push_per_commit),
        ("pending list", pending_list),
    )
    best = {}
    for _ in range(rounds):
        for name, make in variants:
            callbacks = [make(pk) for pk in range(10_000_000, 10_000_000 + n)]
            callbacks[0]()  # a warm client and broker connection, as in a running web process
            pipeline.handoff.flush()
            start, wall = time.process_time(), time.perf_counter()
            for cb in callbacks[1:]:
                cb()
            pipeline.handoff.flush()  # what the thread has not pushed yet, counted here
            cpu = (time.process_time() - start) / (n - 1)
            wall = (time.perf_counter() - wall) / (n - 1)
            best[name] = min(best.get(name, cpu), cpu)
            published = sum(r.llen(k) for k in ("celery", "registry-dispatch"))
            print(
                f"{name:<15} {n} dispatches: {cpu * 1e3:.3f} ms CPU, {wall * 1e3:.3f} ms wall "
                f"each; {published} message(s) published",
                flush=True,
            )
            clear()
    # What the drain then costs a worker: one publish per id over one producer (without the
    # drain's UPDATE of registry_dispatched_at, one statement per batch).
    ids = list(range(10_000_000, 10_000_000 + n))
    pipeline.send_checks(ids[:1], marked_at=now)
    start = time.process_time()
    pipeline.send_checks(ids, marked_at=now)
    best["drain's batched publish (worker)"] = (time.process_time() - start) / n
    clear()
    return best


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
