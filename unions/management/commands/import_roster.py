"""`manage.py import_roster FILE [--commit]`: the reviewer roster of notice attachment 4.

Without --commit it is a dry run that reports every bad row; with --commit it saves — all
rows or, if any row is bad, none."""

from pathlib import Path

import tablib
from django.core.management.base import BaseCommand, CommandError

from unions.resources import RosterResource

FORMATS = {".xlsx": "xlsx", ".csv": "csv"}


def load_dataset(path: Path) -> tablib.Dataset:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CommandError(f"不支持的文件格式：{path.suffix}（支持 xlsx、csv）")
    if fmt == "csv":
        text = path.read_bytes().decode("utf-8-sig")
        return tablib.Dataset().load(text, format="csv")
    with path.open("rb") as fh:
        return tablib.Dataset().load(fh, format=fmt)


def report_errors(result) -> list[str]:
    lines = [f"文件错误：{e.error}" for e in result.base_errors]
    for row in result.invalid_rows:
        for messages in row.error_dict.values():
            for message in messages:
                lines.append(f"第 {row.number} 行：{message}")
    for number, errors in result.row_errors():
        for e in errors:
            lines.append(f"第 {number} 行：{e.error}")
    return lines


class Command(BaseCommand):
    help = "导入审核员花名册（附件4：序号、姓名、手机号、邮箱、所属工会、审核工会名称）"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--commit", action="store_true", help="确认导入（默认只校验）")

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"文件不存在：{path}")
        dataset = load_dataset(path)
        commit = options["commit"]
        result = RosterResource().import_data(dataset, dry_run=not commit, raise_errors=False)
        errors = report_errors(result)
        if errors:
            for line in errors:
                self.stderr.write(line)
            raise CommandError(f"花名册有 {len(errors)} 处错误，未保存任何数据")
        for number, message in getattr(result, "links", []):
            self.stdout.write(f"第 {number} 行：{message}")
        totals = result.totals
        summary = f"新增 {totals.get('new', 0)} 人，更新 {totals.get('update', 0)} 人"
        if commit:
            self.stdout.write(self.style.SUCCESS(f"已导入：{summary}"))
        else:
            self.stdout.write(f"校验通过（未保存）：{summary}。确认导入请加 --commit")
