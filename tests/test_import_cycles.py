"""No import cycles among the project's modules — counting imports inside functions, which
hide a cycle without removing it — and every task a service sends by name exists."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import check_import_cycles as checker  # noqa: E402


def test_the_project_has_no_import_cycle():
    assert checker.cycles(checker.import_graph()) == []


def test_the_checker_finds_a_cycle_hidden_inside_a_function(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "services.py").write_text("from app import tasks\n")
    (tmp_path / "app" / "tasks.py").write_text(
        "def run():\n    from app.services import go\n    return go()\n"
    )
    (tmp_path / "app" / "models.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app import services\n"
    )
    graph = checker.import_graph(tmp_path)
    assert checker.cycles(graph) == [["app.services", "app.tasks"]]
    assert graph["app.models"] == set()  # an import for type checkers only is no cycle


def test_every_task_sent_by_name_is_registered():
    from config.celery import task

    sent = set()
    for path in checker.project_modules().values():
        text = path.read_text(encoding="utf-8")
        sent |= set(re.findall(r"enqueue(?:_on_commit)?\(\s*\"([\w.]+)\"", text))
        sent |= set(re.findall(r"_TASK = \"([\w.]+)\"", text))
    assert len(sent) >= 6  # the pattern still finds them
    for name in sorted(sent):
        assert task(name).name == name
