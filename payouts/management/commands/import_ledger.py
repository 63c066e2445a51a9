from django.core.management.base import BaseCommand, CommandError

from payouts.services.ledger import import_ledger, load_dataset


class Command(BaseCommand):
    help = (
        "Import historical grants (columns 姓名, 身份证号码, 年度, 金额) from a CSV or XLSX "
        "file into the lifetime ledger. All rows or none."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, file, **options):
        try:
            dataset = load_dataset(file)
        except (OSError, ValueError) as exc:
            raise CommandError(f"无法读取文件：{exc}")
        outcome = import_ledger(dataset)
        if not outcome.ok:
            for line in outcome.errors:
                self.stderr.write(line)
            raise CommandError(f"共 {len(outcome.errors)} 处错误，未导入任何记录")
        self.stdout.write(f"已导入 {outcome.imported} 条历史发放记录")
