"""XLSX export of the statistics: one sheet per table shown on the page."""

from io import BytesIO

from openpyxl import Workbook

from subsidy.models import ApplicationStatus as S


def _sheet(wb, title, header, rows):
    ws = wb.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append(list(r))
    return ws


def stats_workbook(data) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(
        wb,
        "概况",
        ["项目", "数量", "上限/名额"],
        [
            ("申领人数", data["applicants"]["count"], data["applicants"]["cap"]),
            ("申领件数", data["applications"], ""),
            ("市总工会审核通过", data["approvals"]["count"], data["approvals"]["quota"]),
        ],
    )
    _sheet(wb, "按状态", ["状态", "数量"], [(r["label"], r["count"]) for r in data["by_status"]])
    statuses = list(S.values)
    _sheet(
        wb,
        "各区按状态",
        ["区总工会/产业工会", *[S(s).label for s in statuses], "合计"],
        [
            (d["district"], *[d["counts"][s] for s in statuses], d["total"])
            for d in data["by_district"]
        ],
    )
    for title, key in (
        ("职工群体", "by_worker_group"),
        ("申领类型", "by_kind"),
        ("户口性质", "by_hukou"),
    ):
        _sheet(wb, title, ["类别", "数量"], [(r["label"], r["count"]) for r in data[key]])
    _sheet(
        wb,
        "审核积压",
        ["审核层级", "待审核", "逾期", "审核截止"],
        [(b["label"], b["pending"], b["overdue"], b["deadline"]) for b in data["backlog"]],
    )
    lat = data["registry_latency"]
    _sheet(
        wb,
        "学历校核用时",
        ["已出结果", "中位数（秒）", "P95（秒）"],
        [(lat["checked"], lat["median_seconds"], lat["p95_seconds"])],
    )
    _sheet(
        wb,
        "首日每小时提交",
        ["时段", "提交数"],
        [(h["hour"], h["count"]) for h in data["opening_day"]["hours"]],
    )
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
