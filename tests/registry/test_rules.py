"""Each rule of SPEC §5, decided from the simulator's records over real HTTP: the application
goes through dispatch → Celery task (eager here) → HTTP lookup → rules → transition."""

from datetime import timedelta

import pytest
from django.db import transaction

from registry.pipeline import dispatch_check
from reviews.models import AuditRecord
from subsidy.models import ApplicationStatus
from tests.factories import make_id_number
from tests.registry.conftest import add_record

pytestmark = pytest.mark.django_db


def submit(app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            dispatch_check(app.pk)
    app.refresh_from_db()
    return app


def test_matching_enrollment_record_passes_to_grassroots(
    sim, pending_app, django_capture_on_commit_callbacks
):
    app = pending_app(kind="enrollment", number="2024440100001")
    add_record(sim, app)
    submit(app, django_capture_on_commit_callbacks)
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS
    assert app.registry_outcome == "passed"
    assert app.registry_reason == ""
    assert app.registry_checked_at is not None
    assert app.registry_record["institution"] == "广东开放大学"
    assert app.registry_record["major"] == "机械设计制造及其自动化"
    # the registry's ID number is kept masked in the stored record
    assert app.registry_record["id_number"] != app.id_number
    assert app.registry_record["id_number_matches"] is True
    audit = AuditRecord.objects.get(application=app)
    assert (audit.from_status, audit.to_status, audit.actor) == (
        "pending_chsi",
        "pending_grassroots",
        None,
    )


def test_matching_self_study_certificate_passes(
    sim, pending_app, django_capture_on_commit_callbacks
):
    app = pending_app(kind="self_study", number="144015202405000101")
    add_record(sim, app)
    submit(app, django_capture_on_commit_callbacks)
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS


@pytest.mark.parametrize(
    "kind,typed,stored,expected_reason",
    [
        ("self_study", "144015202405000101 ", "144015202405000101", "证书编号未查询到"),
        ("self_study", "zk2024a0001", "ZK2024A0001", "证书编号未查询到"),
        ("enrollment", "２０２４４４０１", "20244401", "学籍学号未查询到"),
        ("enrollment", "2024 440100002", "2024440100002", "学籍学号未查询到"),
    ],
    ids=["trailing-space", "letter-case", "full-width-digits", "inner-space"],
)
def test_number_must_match_exactly(
    sim, pending_app, django_capture_on_commit_callbacks, kind, typed, stored, expected_reason
):
    app = pending_app(kind=kind, number=typed)
    add_record(sim, app, number=stored)
    submit(app, django_capture_on_commit_callbacks)
    assert app.status == ApplicationStatus.CHSI_FAILED
    assert app.registry_outcome == "not_found"
    assert app.registry_reason == f"{expected_reason}，请检查是否有空格或大小写错误"
    assert app.registry_record == {"result": "not_found", "number": typed}


def _window(app):
    c = app.campaign
    return f"{c.eligible_from:%Y-%m-%d} 至 {c.eligible_until:%Y-%m-%d}"


@pytest.mark.parametrize(
    "kind,overrides,code,reason",
    [
        ("enrollment", {"name": "王小明"}, "name_mismatch", "学信网登记的姓名与申领人姓名不一致"),
        (
            "enrollment",
            {"id_number": make_id_number(987)},
            "id_mismatch",
            "学信网登记的身份证号码与申领人身份证号码不一致",
        ),
        (
            "enrollment",
            {"level": "研究生"},
            "level_not_eligible",
            "学历层次为“研究生”，补助仅限大专、本科学历教育",
        ),
        (
            "self_study",
            {"learning_form": "全日制"},
            "not_self_study",
            "该证书学习形式为“全日制”，不是高等教育自学考试毕业证书",
        ),
        ("enrollment", {"status": "注销"}, "status_invalid", "学籍状态为“注销”，不符合申领条件"),
    ],
    ids=["name", "id-number", "postgraduate", "not-self-study", "cancelled-status"],
)
def test_each_mismatch_fails_with_its_reason(
    sim, pending_app, django_capture_on_commit_callbacks, kind, overrides, code, reason
):
    app = pending_app(kind=kind)
    assert all(getattr(app, field, None) != value for field, value in overrides.items())
    add_record(sim, app, **overrides)
    submit(app, django_capture_on_commit_callbacks)
    assert app.status == ApplicationStatus.CHSI_FAILED
    assert app.registry_outcome == code
    assert app.registry_reason.startswith(reason)


@pytest.mark.parametrize("level", ["大专", "专科", "本科"])
def test_eligible_levels_pass(sim, pending_app, django_capture_on_commit_callbacks, level):
    app = pending_app()
    add_record(sim, app, level=level)
    submit(app, django_capture_on_commit_callbacks)
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS


@pytest.mark.parametrize(
    "kind,offset_days,what",
    [
        ("enrollment", -1, "取得学籍时间"),  # the day before eligible_from
        ("self_study", +1, "毕业时间"),  # the day after eligible_until
    ],
)
def test_date_outside_the_campaign_window_fails(
    sim, pending_app, django_capture_on_commit_callbacks, kind, offset_days, what
):
    app = pending_app(kind=kind)
    c = app.campaign
    day = (
        c.eligible_from + timedelta(days=-1)
        if offset_days < 0
        else c.eligible_until + timedelta(days=1)
    )
    add_record(sim, app, date=day.isoformat())
    submit(app, django_capture_on_commit_callbacks)
    assert app.status == ApplicationStatus.CHSI_FAILED
    assert app.registry_outcome == "date_outside_window"
    assert app.registry_reason == f"{what}不在 {_window(app)} 期间（学信网记录为 {day:%Y-%m-%d}）"


@pytest.mark.parametrize("edge", ["first-day", "last-day"])
def test_window_bounds_are_inclusive(sim, pending_app, django_capture_on_commit_callbacks, edge):
    app = pending_app(kind="self_study")
    c = app.campaign
    day = c.eligible_from if edge == "first-day" else c.eligible_until
    add_record(sim, app, date=day.isoformat())
    submit(app, django_capture_on_commit_callbacks)
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS


def test_window_comes_from_the_campaign_not_the_code(
    sim, pending_app, django_capture_on_commit_callbacks
):
    from datetime import date

    app = pending_app(kind="self_study")
    c = app.campaign
    c.eligible_from, c.eligible_until = date(2023, 9, 1), date(2024, 8, 24)
    c.save()
    add_record(sim, app, date="2024-08-25")
    submit(app, django_capture_on_commit_callbacks)
    assert (
        app.registry_reason
        == "毕业时间不在 2023-09-01 至 2024-08-24 期间（学信网记录为 2024-08-25）"
    )


def test_self_study_number_is_not_looked_up_as_a_student_number(
    sim, pending_app, django_capture_on_commit_callbacks
):
    app = pending_app(kind="self_study", number="2024440100009")
    sim.add("student", **{**_record_dict(app), "learning_form": "自学考试"})
    submit(app, django_capture_on_commit_callbacks)
    assert app.registry_outcome == "not_found"


def _record_dict(app):
    from tests.registry.conftest import record_for

    return record_for(app)
