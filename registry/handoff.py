"""Committed submissions handed to the registry's pending list in batches, from a thread of
the web process's own (`registry.pipeline` describes the list and its drain).

Why a thread. The hand-off was one Redis round trip in the request, after the commit. Its
CPU in the request's own thread was small (~0.05 ms), but in the opening rush — 16 request
threads on two cores, every one of them waiting for the interpreter lock — each round trip
also costs a hand-over of that lock and a wake-up of Redis: without the hand-off the rush's
submissions cost 13–15 % less of the machine (bench_intake, 3 runs each way), the largest
single item left. Now the request appends the id to a list in memory and returns; this
thread wakes, waits DELAY so that the submissions of that moment join, and pushes them all
with one pipeline (`DispatchQueue.enqueue`).

What is at stake is small and already covered: an id waits here at most DELAY (plus the
push); should the process die in that time, the application keeps its
`registry_dispatched_at` and the sweeper sends its check after REGISTRY_SWEEP_AFTER_SECONDS,
as for a drain that died (pipeline docstring). A push that fails (Redis down) gives the ids
back to the sweeper at once, as before (`registry_dispatched_at` set to NULL). Pending ids
are pushed when the process exits normally (gunicorn's graceful restart).

Fork-safe: a child starts with no pending ids and its own thread (a parent's lock may have
been held at the fork).
"""

import atexit
import logging
import os
import threading
import time

from django.db import connections

logger = logging.getLogger(__name__)

DELAY = 0.02  # seconds an id may wait for others to join its push


class Handoff:
    def __init__(self, send, delay: float = DELAY):
        """`send(batch)`: push [(application id, marked_at)]; must not raise."""
        self._send = send
        self.delay = delay
        self.background = True  # False: only flush() pushes (tests whose rows are uncommitted)
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self):
        self._lock = threading.Lock()  # the pending list and the thread
        self._flushing = threading.Lock()  # one push at a time: flush() waits for one in flight
        self._pending: list[tuple] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, application_id: int, marked_at) -> None:
        """Called on commit, in the request: never blocks on the network."""
        with self._lock:
            self._pending.append((application_id, marked_at))
            if self.background and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(
                    target=self._run, name="registry-handoff", daemon=True
                )
                self._thread.start()
        if not self._wake.is_set():
            self._wake.set()

    def pending(self) -> list[tuple]:
        with self._lock:
            return list(self._pending)

    def flush(self) -> int:
        """Push what is pending now, in the calling thread; returns how many. Waits for a
        push already in flight, so that afterwards everything added before the call is
        pushed (or given to the sweeper)."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:
                self._send(batch)
            return len(batch)

    def _run(self):
        while True:
            self._wake.wait()
            time.sleep(self.delay)
            self._wake.clear()
            if not self.background:
                continue
            try:
                self.flush()
            except Exception:  # send() must not raise; the thread must not die either
                logger.exception("registry hand-off: push failed")
            try:
                connections.close_all()  # this thread's, opened only to give ids back
            except Exception:
                logger.warning("registry hand-off: closing its connection failed", exc_info=True)


def at_exit(handoff: Handoff) -> None:
    def flush():
        try:
            handoff.flush()
        except Exception:
            logger.warning("registry hand-off: pending ids not pushed at exit", exc_info=True)

    atexit.register(flush)
