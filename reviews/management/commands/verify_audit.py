"""`manage.py verify_audit`: walk the audit hash chain and name the first broken record."""

from django.core.management.base import BaseCommand, CommandError

from reviews.services.audit import verify_chain


class Command(BaseCommand):
    help = "校验审核记录哈希链，指出第一条被篡改或删除的记录"

    def handle(self, *args, **options):
        checked, problem = verify_chain()
        if problem is not None:
            raise CommandError(f"审核记录链校验失败：{problem}（此前 {checked} 条记录完好）")
        self.stdout.write(self.style.SUCCESS(f"审核记录链完好：共 {checked} 条记录"))
