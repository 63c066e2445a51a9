"""`manage.py seed_demo`: the demo data of every app, in the order of settings.DEMO_SEEDERS.

Each entry is "module.function"; a module that does not exist (its app has no demo data yet)
is skipped, while an import error inside an existing module is raised. Seeders are
idempotent, so running this again changes nothing that is already there."""

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand


def load_seeder(dotted: str):
    """The seeder function, or None when its module does not exist."""
    module_name, _, func_name = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only the seeder module itself (or its package) missing means "no demo data";
        # a missing dependency inside it is a real error.
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            return None
        raise
    return getattr(module, func_name)


class Command(BaseCommand):
    help = "创建演示数据（广州工会组织树、会员、各级审核员、补助批次等），可重复执行"

    def handle(self, *args, **options):
        for dotted in settings.DEMO_SEEDERS:
            seeder = load_seeder(dotted)
            if seeder is None:
                self.stdout.write(f"  - {dotted}: 无（跳过）")
                continue
            self.stdout.write(f"  - {dotted}")
            seeder(self.stdout)
        self.stdout.write(self.style.SUCCESS("演示数据已就绪"))
