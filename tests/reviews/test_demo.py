"""reviews.demo: demo applications in every review state, idempotent, with a valid chain."""

from reviews.demo import PLAN, seed
from reviews.services.audit import verify_chain
from subsidy.models import Application
from tests.factories import MemberFactory, ReviewerFactory, UnionFactory


def test_demo_creates_every_review_state_once(tree, campaign):
    union = UnionFactory(name="越秀区示范单位工会", parent=tree.yuexiu)
    for i in range(len(PLAN) + 2):
        MemberFactory(union=union, mobile=f"139000000{10 + i:02d}")
    ReviewerFactory(level="grassroots", unions=[union], phone="13800000001")
    seed()
    seed()
    statuses = sorted(Application.objects.values_list("status", flat=True))
    assert statuses == sorted(str(s) for s, *_ in PLAN)
    assert {
        "pending_grassroots",
        "pending_district",
        "pending_city",
        "grassroots_rejected",
        "district_rejected",
        "city_rejected",
        "approved",
    } <= set(statuses)
    assert verify_chain()[1] is None
    rejected = Application.objects.get(status="district_rejected")
    assert rejected.rejection_reason and rejected.audit_records.count() == 3
