"""`manage.py state_machine_diagram`: draw the Application state machine (SPEC §6) with
django-fsm's `graph_transitions` into docs/state-machine.svg and .png.

django_fsm is not an installed app (it needs none), so its command is called directly.
Needs the `graphviz` Python package and Graphviz's `dot` binary (apt-get install graphviz)."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_fsm.management.commands.graph_transitions import Command as GraphTransitions


class Command(BaseCommand):
    help = "生成申领状态机图 docs/state-machine.svg / .png"

    def handle(self, *args, **options):
        docs = Path(settings.BASE_DIR) / "docs"
        docs.mkdir(exist_ok=True)
        for ext in ("svg", "png"):
            out = docs / f"state-machine.{ext}"
            call_command(GraphTransitions(), "subsidy.Application.status", output=str(out))
            self.stdout.write(f"已生成 {out}")
        (docs / "state-machine").unlink(missing_ok=True)  # graphviz's intermediate dot source
