"""The hand-off thread (registry.handoff): the request only appends; the thread pushes
the ids of a burst together, each exactly once; a push that fails gives them to the sweeper."""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from registry import pipeline
from registry.handoff import Handoff
from subsidy.models import Application


class Recorder:
    def __init__(self, gate=None):
        self.batches = []
        self.threads = set()
        self.gate = gate
        self.started = threading.Event()

    def __call__(self, batch):
        self.started.set()
        self.threads.add(threading.current_thread().name)
        if self.gate is not None:
            assert self.gate.wait(10)
        self.batches.append(batch)


def _wait_for(predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "not within 10 s"
        time.sleep(0.005)


def test_a_burst_is_pushed_by_the_thread_each_id_once_in_few_pushes():
    sent = Recorder()
    handoff = Handoff(sent, delay=0.05)
    start = threading.Barrier(20)

    def commit(k):
        start.wait()
        for i in range(k * 50, k * 50 + 50):
            handoff.add(i, f"t{i}")

    threads = [threading.Thread(target=commit, args=(k,)) for k in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _wait_for(lambda: sum(map(len, sent.batches)) == 1000)
    pushed = [item for batch in sent.batches for item in batch]
    assert sorted(pushed) == sorted((i, f"t{i}") for i in range(1000))
    assert len(sent.batches) < 100  # joined, not one push per id
    assert sent.threads == {"registry-handoff"}  # never in a request's thread
    assert handoff.pending() == []


def test_a_hand_off_thread_that_died_is_replaced():
    sent = Recorder()
    handoff = Handoff(sent, delay=0)
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    handoff._thread = dead  # as if its loop had ended on an unexpected error
    handoff.add(3, "c")
    _wait_for(lambda: sent.batches == [[(3, "c")]])
    assert handoff._thread is not dead and handoff._thread.is_alive()


def test_a_slow_push_never_holds_up_a_request_and_flush_waits_for_it():
    gate = threading.Event()
    sent = Recorder(gate)
    handoff = Handoff(sent, delay=0)
    handoff.add(1, "a")
    assert sent.started.wait(10)  # the thread is pushing [1] and hangs (Redis slow)
    request = threading.Thread(target=handoff.add, args=(2, "b"))
    request.start()
    request.join(10)
    assert not request.is_alive()  # the second request appended and went on
    flusher = threading.Thread(target=handoff.flush)
    flusher.start()
    flusher.join(0.2)
    assert flusher.is_alive()  # flush() waits for the push in flight …
    gate.set()
    flusher.join(10)
    assert not flusher.is_alive()
    _wait_for(lambda: sum(map(len, sent.batches)) == 2)  # … and then [2] goes too
    assert [item for batch in sent.batches for item in batch] == [(1, "a"), (2, "b")]


def test_without_the_thread_nothing_is_pushed_until_flush():
    sent = Recorder()
    handoff = Handoff(sent)
    handoff.background = False
    handoff.add(7, "x")
    time.sleep(0.05)
    assert sent.batches == [] and handoff.pending() == [(7, "x")]
    assert handoff.flush() == 1 and sent.batches == [[(7, "x")]]


def test_a_forked_child_starts_without_the_parents_ids_and_with_its_own_thread():
    sent = Recorder()
    handoff = Handoff(sent)
    handoff.background = False
    handoff.add(1, "parent")
    handoff._lock.acquire()  # held by a parent's thread at the moment of the fork
    pid = os.fork()
    if pid == 0:  # the child: must neither deadlock nor push the parent's id
        code = 1
        try:
            handoff.background = True
            handoff.add(2, "child")
            _wait_for(lambda: sent.batches == [[(2, "child")]])
            code = 0
        finally:
            os._exit(code)
    handoff._lock.release()
    from tests.subsidy.test_received import _exit_code

    assert _exit_code(pid) == 0
    assert handoff.pending() == [(1, "parent")]


def test_the_web_process_pushes_its_pending_ids_when_it_exits():
    """registry.pipeline registers its hand-off's flush at exit (gunicorn's graceful
    restart ends a worker with sys.exit)."""
    code = (
        "import django\n"
        "django.setup()\n"
        "from registry import pipeline\n"
        "pipeline.handoff._send = lambda batch: print('pushed', batch)\n"
        "pipeline.handoff.background = False\n"
        "pipeline.handoff.add(5, 'at exit')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "pushed [(5, 'at exit')]" in out.stdout


@pytest.mark.real_celery
@pytest.mark.django_db(transaction=True)
def test_the_thread_gives_ids_back_to_the_sweeper_when_redis_is_down(pending_app, caplog):
    """Through the real thread and its own database connection (committed rows)."""
    import socket

    from tests.registry.test_faults import _use_broker

    if not settings.REDIS_URL:
        pytest.skip("needs Redis")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    app = pending_app()
    now = timezone.now()
    Application.objects.filter(pk=app.pk).update(registry_dispatched_at=now)
    old = _use_broker(f"redis://127.0.0.1:{closed}/0")
    try:
        pipeline.dispatch_check(app.pk, marked_at=now)  # autocommit: handed off at once
        _wait_for(
            lambda: Application.objects.filter(pk=app.pk, registry_dispatched_at=None).exists()
        )
    finally:
        _use_broker(old)
    # logged by the thread just after its UPDATE
    _wait_for(lambda: "could not queue registry checks for 1 application(s)" in caplog.text)
    later = timezone.now() + timedelta(seconds=61)
    assert app.pk in set(pipeline.stranded(now=later).values_list("pk", flat=True))


@pytest.mark.real_celery
@pytest.mark.django_db
def test_a_push_that_fails_before_reaching_redis_gives_the_ids_back(pending_app, monkeypatch):
    """Even an error in finding the queue (not only Redis refusing) leaves nothing marked as
    queued: the sweeper sends them."""
    app = pending_app()
    now = timezone.now()
    Application.objects.filter(pk=app.pk).update(registry_dispatched_at=now)

    def broken():
        raise RuntimeError("pool")

    monkeypatch.setattr(pipeline, "dispatch_queue", broken)
    pipeline._push([(app.pk, now)])
    app.refresh_from_db()
    assert app.registry_dispatched_at is None
