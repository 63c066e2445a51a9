"""Fixtures for the registry tests: a simulator process on a free port with its own records
file, helpers to write records and switch faults, and applications waiting for the check."""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from registry.ratelimit import reset_default_client
from subsidy.models import ApplicationStatus
from tests.factories import ApplicationFactory, MemberFactory

ROOT = Path(__file__).resolve().parents[2]


class SimulatorProcess:
    def __init__(self, data_path: Path):
        self.data_path = data_path
        self.records = {"students": [], "certificates": []}
        self._tick = 0
        self.write()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simulators.registry.simulator", "--port", "0"]
            + ["--data", str(data_path), "--user", "demo", "--password", "demo"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()  # "registry simulator listening on http://…"
        self.url = line.strip().rsplit(" ", 1)[-1]
        self.http = httpx.Client(auth=("demo", "demo"), timeout=5)

    def write(self):
        self.data_path.write_text(json.dumps(self.records, ensure_ascii=False), encoding="utf-8")
        # a distinct mtime for every write, however fast tests write
        self._tick += 1
        t = time.time_ns() + self._tick * 1_000_000
        os.utime(self.data_path, ns=(t, t))

    def add(self, kind: str, **record):
        key = "students" if kind == "student" else "certificates"
        self.records[key].append(record)
        self.write()

    def clear(self):
        self.records = {"students": [], "certificates": []}
        self.write()

    def control(self, **changes) -> dict:
        return self.http.post(self.url + "/_control", json=changes).json()

    def state(self) -> dict:
        return self.http.get(self.url + "/_control").json()

    def stop(self):
        self.http.close()
        self.proc.terminate()
        self.proc.wait(5)


@pytest.fixture(scope="session")
def simulator_process(tmp_path_factory):
    sim = SimulatorProcess(tmp_path_factory.mktemp("registry") / "records.json")
    yield sim
    sim.stop()


@pytest.fixture
def sim(simulator_process, settings):
    """The simulator, healthy and empty, and the client pointed at it."""
    simulator_process.clear()
    simulator_process.control(mode="ok", latency_ms=0, reset_counters=True)
    settings.REGISTRY_URL = simulator_process.url
    settings.REGISTRY_USER = "demo"
    settings.REGISTRY_PASSWORD = "demo"
    settings.REGISTRY_TIMEOUT = 1.0
    settings.REGISTRY_RATE_LIMIT = ""  # unlimited unless a test says otherwise
    reset_default_client()
    yield simulator_process
    simulator_process.control(mode="ok", latency_ms=0)
    reset_default_client()


def own_broker_url() -> str:
    """A Redis database of this xdist worker's own for a real broker: no other worker's Celery
    worker takes our tasks (nor we theirs), and flushing it touches nobody else's keys."""
    from django.conf import settings

    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
    return settings.REDIS_URL.rsplit("/", 1)[0] + f"/{12 + index % 3}"


def record_for(app, **overrides) -> dict:
    """A registry record that passes the rules for `app` (date inside the window)."""
    record = {
        "number": app.study_number,
        "name": app.name,
        "id_number": app.id_number,
        "institution": "广东开放大学",
        "major": "机械设计制造及其自动化",
        "level": "本科",
        "learning_form": "自学考试" if app.kind == "self_study" else "成人高等教育",
        "date": (app.campaign.eligible_from + timedelta(days=10)).isoformat(),
        "status": "毕业" if app.kind == "self_study" else "在籍",
    }
    record.update(overrides)
    return record


def add_record(sim, app, **overrides):
    kind = "certificate" if app.kind == "self_study" else "student"
    sim.add(kind, **record_for(app, **overrides))


@pytest.fixture
def pending_app(campaign, tree):
    """Factory for applications waiting for the registry check."""

    def make(kind="enrollment", number=None, **kwargs):
        member = MemberFactory(union=tree.a1)
        kwargs.setdefault("status", ApplicationStatus.PENDING_CHSI)
        if number:
            kwargs["study_number"] = number
        return ApplicationFactory(campaign=campaign, member=member, kind=kind, **kwargs)

    return make
