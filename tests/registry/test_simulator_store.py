"""The simulator's records file: JSON or CSV, exact keys, re-read when it changes, and a
missing or broken file answers 503 (checks are retried) rather than "not found"."""

import json

from simulators.registry.simulator import Simulator, Store

CSV = (
    "kind,number,name,id_number,institution,major,level,learning_form,date,status\n"
    "certificate,ZK001,陈小红,440106199503070013,华南理工大学,会计学,本科,自学考试,2024-06-30,毕业\n"
    "student,2024001,李大明,44010619950307003X,广东开放大学,机电一体化,大专,成人高等教育,"
    "2024-03-01,在籍\n"
)


def _get(sim, kind, number):
    path = {"student": "api/v1/student-status", "certificate": "api/v1/certificates"}[kind]
    answer = sim.handle("GET", path, {"number": [number]}, "", b"")
    return answer.status, json.loads(answer.body)


def test_csv_records_are_served(tmp_path):
    f = tmp_path / "records.csv"
    f.write_text(CSV, encoding="utf-8")
    sim = Simulator(Store(f))
    status, body = _get(sim, "certificate", "ZK001")
    assert status == 200 and body["record"]["learning_form"] == "自学考试"
    assert _get(sim, "student", "2024001")[1]["record"]["level"] == "大专"
    assert _get(sim, "certificate", "zk001")[1] == {"result": "not_found"}
    assert _get(sim, "student", "ZK001")[1] == {"result": "not_found"}


def test_file_changes_are_picked_up(tmp_path):
    f = tmp_path / "records.json"
    f.write_text('{"students": []}', encoding="utf-8")
    sim = Simulator(Store(f))
    assert _get(sim, "student", "1")[1] == {"result": "not_found"}
    f.write_text(
        json.dumps({"students": [{"number": "1", "name": "甲", "date": "2024-01-01"}]}),
        encoding="utf-8",
    )
    import os

    os.utime(f, ns=(1, 10**18))
    assert _get(sim, "student", "1")[1]["result"] == "found"


def test_missing_or_broken_file_is_503(tmp_path):
    sim = Simulator(Store(tmp_path / "nope.json"))
    assert _get(sim, "student", "1")[0] == 503
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert _get(Simulator(Store(bad)), "student", "1")[0] == 503
