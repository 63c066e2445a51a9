"""Demo records for the registry simulator (`seed_demo` calls `seed(stdout)`).

Writes settings.REGISTRY_SIMULATOR_DATA (a JSON file — simulator records never go into the
application database) with one record per demo member, chosen so that the demo shows every
outcome of the check. Demo members are the unions seeder's, by mobile 13900000001 … .
A member who already has an application gets a record for the number and type on it; the
others get the number printed below. Idempotent: the file is rewritten each time.

| mobile      | type       | number               | outcome                                   |
|-------------|------------|----------------------|-------------------------------------------|
| 13900000001 | enrollment | 2024440100001        | passed                                    |
| 13900000002 | self_study | 144015202405000002   | passed                                    |
| 13900000003 | enrollment | 2024440100003        | not_found (no record at all)              |
| 13900000004 | enrollment | 2024440100004        | name_mismatch                             |
| 13900000005 | enrollment | 2024440100005        | id_mismatch                               |
| 13900000006 | enrollment | 2024440100006        | level_not_eligible (研究生)                |
| 13900000007 | enrollment | 2024440100007        | date_outside_window (取得学籍 before it)   |
| 13900000008 | self_study | 144015202405000008   | date_outside_window (毕业 after it)        |
| 13900000009 | self_study | 144015202405000009   | not_self_study (全日制 certificate)        |
| 13900000010 | enrollment | 2024440100010        | status_invalid (学籍注销)                  |
| 13900000011 | self_study | ZK2024GZ0011         | passed if typed exactly; zk2024gz0011 or  |
|             |            |                      | "ZK2024GZ0011 " → not_found               |
| 139000000nn | enrollment | 20244401000nn        | passed (every other demo member)          |
"""

import json
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from stdnum.cn import ric

DEFAULT_WINDOW = (date(2023, 9, 1), date(2024, 8, 24))
FIRST_MOBILE = 13900000001
DEMO_MEMBERS = 300

SCENARIOS = {
    1: ("enrollment", "passed", {}),
    2: ("self_study", "passed", {}),
    3: ("enrollment", "not_found", None),
    4: ("enrollment", "name_mismatch", {"name": "name-mismatch"}),
    5: ("enrollment", "id_mismatch", {"id_number": "id-mismatch"}),
    6: ("enrollment", "level_not_eligible", {"level": "研究生"}),
    7: ("enrollment", "date_outside_window", {"date": "before"}),
    8: ("self_study", "date_outside_window", {"date": "after"}),
    9: ("self_study", "not_self_study", {"learning_form": "全日制", "institution": "华南理工大学"}),
    10: ("enrollment", "status_invalid", {"status": "注销"}),
    11: ("self_study", "passed", {"number": "ZK2024GZ0011"}),
}


def number_for(n: int, kind: str) -> str:
    if kind == "self_study":
        return f"14401520240500{n:04d}"
    return f"20244401{n:05d}"


def _other_id(id_number: str) -> str:
    """A valid ID number of somebody else (same region, another birthday)."""
    body = id_number[:6] + ("19800101" if id_number[6:14] != "19800101" else "19810101")
    body += id_number[14:17]
    return body + ric.calc_check_digit(body)


def _record(member, kind, number, window, overrides) -> dict:
    start, end = window
    inside = min(start + timedelta(days=14), end)
    record = {
        "number": number,
        "name": member.name,
        "id_number": member.id_number,
        "institution": "广东开放大学" if kind == "enrollment" else "广东省高等教育自学考试委员会",
        "major": "机械设计制造及其自动化" if kind == "enrollment" else "工商管理",
        "level": "本科" if member.pk % 2 else "大专",
        "learning_form": "成人高等教育" if kind == "enrollment" else "自学考试",
        "date": inside.isoformat(),
        "status": "在籍" if kind == "enrollment" else "毕业",
    }
    for key, value in overrides.items():
        if key == "name":
            value = member.name[0] + "某某"
        elif key == "id_number":
            value = _other_id(member.id_number)
        elif key == "date":
            value = start - timedelta(days=60) if value == "before" else end + timedelta(days=30)
            value = value.isoformat()
        record[key] = value
    return record


def build(members, applications, window):
    """(records, table rows). `applications`: {member_id: (kind, study_number)}."""
    students, certificates, rows = [], [], []
    for member in members:
        n = int(member.mobile) - FIRST_MOBILE + 1
        kind, outcome, overrides = SCENARIOS.get(n, ("enrollment", "passed", {}))
        number = (overrides or {}).get("number") or number_for(n, kind)
        if member.pk in applications:  # match what the demo application already carries
            kind, number = applications[member.pk]
        rows.append((member.mobile, kind, number, outcome))
        if overrides is None:
            continue
        record = _record(member, kind, number, window, {**overrides, "number": number})
        (certificates if kind == "self_study" else students).append(record)
    return {"students": students, "certificates": certificates}, rows


def seed(stdout=None):
    from subsidy.models import Application, Campaign
    from unions.models import Member

    campaign = Campaign.current()
    window = (campaign.eligible_from, campaign.eligible_until) if campaign else DEFAULT_WINDOW
    mobiles = [str(FIRST_MOBILE + i) for i in range(DEMO_MEMBERS)]
    members = list(Member.objects.filter(mobile__in=mobiles).order_by("mobile"))
    applications = {}
    if campaign is not None:
        for member_id, kind, number in (
            Application.objects.filter(campaign=campaign, member__in=members)
            .order_by("member_id", "-attempt")
            .values_list("member_id", "kind", "study_number")
        ):
            applications.setdefault(member_id, (kind, number))
    data, rows = build(members, applications, window)
    path = Path(settings.REGISTRY_SIMULATOR_DATA)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)  # atomic: a running simulator never reads half a file
    if stdout is not None:
        stdout.write(
            f"registry simulator: {len(data['students'])} 学籍 + "
            f"{len(data['certificates'])} 证书 records → {path}"
        )
        for mobile, kind, number, outcome in rows[:11]:
            stdout.write(f"  {mobile}  {kind:<10} {number:<20} → {outcome}")
        if len(rows) > 11:
            stdout.write(f"  … {len(rows) - 11} more demo members, each passing")
    _dispatch_pending(stdout)
    return data


def _dispatch_pending(stdout):
    """Demo applications already waiting for the check: queue them for the worker. Inline
    (embedded) mode cannot check them before the web server — which hosts the simulator —
    is up, so there it only says how."""
    from config.celery import app as celery_app
    from registry import pipeline
    from subsidy.models import Application, ApplicationStatus

    waiting = Application.objects.in_status(ApplicationStatus.PENDING_CHSI).count()
    if not waiting or stdout is None and celery_app.conf.task_always_eager:
        return
    if celery_app.conf.task_always_eager:
        stdout.write(
            f"  {waiting} 条待学历接口校核的申领: 服务启动后运行 "
            "`python manage.py registry_sweep --all` 完成校核"
        )
        return
    sent = pipeline.sweep(stale_after=0, grace=0)
    if stdout is not None:
        stdout.write(f"  queued {sent} registry check(s) for demo applications")
