"""SPEC §5: reviewers never see applications waiting for or failed at the registry check;
the applicant sees the reason and may submit again."""

import pytest

from subsidy.models import Application, ApplicationStatus
from tests.factories import ApplicationFactory, MemberFactory
from tests.registry.conftest import add_record

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "who",
    ["grassroots_a", "district_yuexiu", "city"],
)
def test_reviewers_never_see_chsi_failed_or_pending_chsi(reviewers, campaign, tree, who):
    def make(status):
        return ApplicationFactory(
            campaign=campaign, member=MemberFactory(union=tree.a1), status=status
        )

    failed, pending, passed = make("chsi_failed"), make("pending_chsi"), make("pending_grassroots")
    user = getattr(reviewers, who).user
    visible = set(Application.objects.visible_to(user).values_list("pk", flat=True))
    assert passed.pk in visible
    assert failed.pk not in visible and pending.pk not in visible


def test_applicant_sees_the_reason_and_may_submit_again(sim, pending_app):
    from registry.tasks import check_registry

    app = pending_app(number="2024440100077")
    add_record(sim, app, name="别人")
    check_registry.apply(args=[app.pk])
    mine = Application.objects.of_user(app.member.user).get(pk=app.pk)
    assert mine.status == ApplicationStatus.CHSI_FAILED
    assert mine.registry_reason.startswith("学信网登记的姓名与申领人姓名不一致")
    assert mine.is_retryable
    # R6 allows a new attempt beside the failed one
    again = ApplicationFactory(
        campaign=app.campaign, member=app.member, attempt=2, status="pending_chsi"
    )
    assert again.pk != app.pk
