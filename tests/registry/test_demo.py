"""The demo seeder writes simulator records giving each demo member the outcome it promises."""

import json
from io import StringIO

import pytest

from registry.tasks import check_registry
from simulators.registry import demo
from subsidy.models import ApplicationStatus
from tests.factories import ApplicationFactory, MemberFactory

pytestmark = pytest.mark.django_db


def test_demo_records_cover_every_outcome(settings, tmp_path, campaign, tree, sim):
    members = [MemberFactory(union=tree.a1, mobile=str(demo.FIRST_MOBILE + i)) for i in range(12)]
    settings.REGISTRY_SIMULATOR_DATA = str(tmp_path / "demo.json")
    out = StringIO()
    demo.seed(out)
    assert "13900000001" in out.getvalue()
    data = json.loads((tmp_path / "demo.json").read_text(encoding="utf-8"))
    # feed the seeded file to the simulator process and check each member's application
    sim.records = data
    sim.write()
    outcomes = {}
    for i, member in enumerate(members, start=1):
        kind, expected, overrides = demo.SCENARIOS.get(i, ("enrollment", "passed", {}))
        number = (overrides or {}).get("number") or demo.number_for(i, kind)
        app = ApplicationFactory(
            campaign=campaign, member=member, kind=kind, study_number=number, status="pending_chsi"
        )
        check_registry.apply(args=[app.pk])
        app.refresh_from_db()
        outcomes[i] = app.registry_outcome
        assert app.registry_outcome == expected, (i, app.registry_reason)
    assert set(outcomes.values()) >= {
        "passed",
        "not_found",
        "name_mismatch",
        "id_mismatch",
        "level_not_eligible",
        "date_outside_window",
        "not_self_study",
        "status_invalid",
    }
    assert outcomes[1] == "passed"


def test_demo_matches_existing_demo_applications(settings, tmp_path, campaign, tree, sim):
    member = MemberFactory(union=tree.a1, mobile="13900000020")
    app = ApplicationFactory(
        campaign=campaign,
        member=member,
        study_number="XY-77",
        status=ApplicationStatus.PENDING_CHSI,
    )
    settings.REGISTRY_SIMULATOR_DATA = str(tmp_path / "demo.json")
    data = demo.seed()
    sim.records = data
    sim.write()
    check_registry.apply(args=[app.pk])
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS


def test_seeding_twice_gives_the_same_file(settings, tmp_path, campaign, tree):
    MemberFactory(union=tree.a1, mobile="13900000001")
    settings.REGISTRY_SIMULATOR_DATA = str(tmp_path / "demo.json")
    assert demo.seed() == demo.seed()
