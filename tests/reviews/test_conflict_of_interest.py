"""Conflict of interest by identity, not by link (issue 17 defect 1, SPEC §2). The route-by-
route rows are in test_permission_matrix.py; here: the issue's reproduction through the roster
import, the import's report, the data migration that links existing accounts, and the
reviewer form."""

import importlib

import pytest
from django.apps import apps
from django.core.management import call_command

from tests.factories import ApplicationFactory, MemberFactory, ReviewerFactory
from unions.models import ReviewerLevel, ReviewerProfile

HEADER = "序号,姓名,手机号,邮箱,所属工会,审核工会名称"


def _roster(tmp_path, *rows, header=HEADER):
    path = tmp_path / "roster.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def own_district_app(tree, campaign):
    """A member of 越秀区甲公司工会 whose application waits for the district."""
    member = MemberFactory(union=tree.a1, name="陈自审")
    return ApplicationFactory(campaign=campaign, member=member, status="pending_district")


def test_issue_17_a_roster_imported_district_admin_cannot_approve_their_own_application(
    client, tmp_path, own_district_app, capsys
):
    """The reproduction: a roster row for the member (name, their mobile, an e-mail, 越秀区总工会)
    made a district reviewer who could open and approve their own application. Now the import
    links the login to the member, says so, and the application is invisible to that login."""
    app = own_district_app
    row = f"1,陈自审,{app.member.mobile},chen@demo.gz,越秀区总工会,越秀区总工会"
    call_command("import_roster", str(_roster(tmp_path, row)), "--commit")
    out = capsys.readouterr().out
    assert "第 1 行：陈自审" in out and "关联为本人会员记录" in out
    assert app.member.mobile not in out  # the report masks the mobile
    profile = ReviewerProfile.objects.get(user__username="chen@demo.gz")
    assert profile.level == ReviewerLevel.DISTRICT and profile.member == app.member

    client.force_login(profile.user)
    assert client.get(f"/api/v1/reviews/{app.pk}/").status_code == 404
    approve = client.post(f"/api/v1/reviews/{app.pk}/approve/", {}, content_type="application/json")
    assert approve.status_code == 404
    assert app.pk not in {r["id"] for r in client.get("/api/v1/reviews/").json()["results"]}
    app.refresh_from_db()
    assert app.status == "pending_district"


def test_even_unlinked_the_same_mobile_hides_the_application(client, own_district_app, tree):
    """Without any link (an account made before the import linked anything), the mobile on the
    reviewer profile is enough."""
    app = own_district_app
    profile = ReviewerFactory(level=ReviewerLevel.DISTRICT, unions=[tree.yuexiu])
    profile.phone = app.mobile
    profile.save()
    assert profile.member is None
    client.force_login(profile.user)
    assert client.get(f"/api/v1/reviews/{app.pk}/").status_code == 404


def test_the_roster_links_by_id_number_and_reports_it(tmp_path, own_district_app, capsys):
    app = own_district_app
    row = f"1,陈自审,13711112222,chen@demo.gz,越秀区总工会,越秀区总工会,{app.id_number}"
    path = _roster(tmp_path, row, header=HEADER + ",身份证号码")
    call_command("import_roster", str(path))  # the dry run reports the link already
    assert "身份证号码与会员记录一致" in capsys.readouterr().out
    assert not ReviewerProfile.objects.exists()
    call_command("import_roster", str(path), "--commit")
    profile = ReviewerProfile.objects.get(user__username="chen@demo.gz")
    assert profile.member == app.member and profile.id_hmac == app.id_hmac


def test_a_bad_id_number_in_the_roster_is_reported_and_nothing_is_saved(tmp_path, tree, capsys):
    row = "1,陈自审,13711112222,chen@demo.gz,越秀区总工会,越秀区总工会,440106199503070001"
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command(
            "import_roster", str(_roster(tmp_path, row, header=HEADER + ",身份证号码")), "--commit"
        )
    assert "第 1 行：身份证号码：身份证号码校验位错误" in capsys.readouterr().err
    assert not ReviewerProfile.objects.exists()


def test_a_roster_without_a_matching_member_links_nothing(tmp_path, tree, capsys):
    row = "1,王五,13711112222,wang@demo.gz,越秀区总工会,越秀区总工会"
    call_command("import_roster", str(_roster(tmp_path, row)), "--commit")
    assert "关联" not in capsys.readouterr().out
    assert ReviewerProfile.objects.get(user__username="wang@demo.gz").member is None


def test_the_data_migration_links_existing_accounts(tree, own_district_app):
    """unions 0005: accounts made before the link existed are linked by mobile or login."""
    by_phone = ReviewerFactory(level=ReviewerLevel.DISTRICT, unions=[tree.yuexiu])
    by_phone.phone = own_district_app.mobile
    by_phone.save()
    other = MemberFactory(union=tree.a2)
    by_login = ReviewerFactory(level=ReviewerLevel.GRASSROOTS, unions=[tree.a2], user=other.user)
    stranger = ReviewerFactory(level=ReviewerLevel.CITY, unions=[tree.city])
    migration = importlib.import_module("unions.migrations.0005_link_reviewers_to_members")
    migration.link(apps, None)
    by_phone.refresh_from_db()
    by_login.refresh_from_db()
    stranger.refresh_from_db()
    assert by_phone.member == own_district_app.member
    assert by_login.member == other
    assert stranger.member is None


def test_a_grassroots_admin_adding_a_member_as_reviewer_links_them(tree, campaign, client):
    from reviews.services import reviewers

    manager = ReviewerFactory(level=ReviewerLevel.GRASSROOTS, unions=[tree.a1])
    manager.can_manage_reviewers = True
    manager.save()
    member = MemberFactory(union=tree.a1)
    own = ApplicationFactory(campaign=campaign, member=member)
    profile = reviewers.add_reviewer(
        manager.user,
        name=member.name,
        phone=member.mobile,
        can_review=True,
        can_manage_reviewers=False,
        union_ids=[tree.a1.pk],
    )
    assert profile.member == member
    client.force_login(profile.user)
    assert client.get(f"/review/applications/{own.pk}/").status_code == 404
