"""Roster import (notice attachment 4): a good file creates the reviewer logins; a file with
any bad row — e.g. a union name that does not match exactly — reports the row and field and
saves nothing. Through the management command and through the admin's dry run + confirm."""

import re

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from unions.models import ReviewerLevel, ReviewerProfile

GOOD = [
    "1,张三,13800001111,ZhangSan@Example.com,越秀区总工会,越秀区总工会",
    "2,李四,13800002222,lisi@example.com,越秀区甲公司工会,越秀区甲公司工会",
    "3,王五,13800003333,wangwu@example.com,广州市交通运输工会,广州市交通运输工会",
]
BAD_UNION = "4,赵六,13800004444,zhaoliu@example.com,越秀区,越秀区工会"


@pytest.mark.django_db
def test_good_roster_creates_logins_and_reviewer_accounts(tree, roster_file):
    call_command("import_roster", str(roster_file(*GOOD)), "--commit")
    zhang = ReviewerProfile.objects.get(user__username="zhangsan@example.com")
    assert zhang.level == ReviewerLevel.DISTRICT
    assert list(zhang.managed_unions.all()) == [tree.yuexiu]
    assert zhang.can_manage_reviewers and zhang.can_review
    assert zhang.phone == "13800001111" and zhang.affiliation == "越秀区总工会"
    assert not zhang.user.has_usable_password()  # set through the password-reset flow
    li = ReviewerProfile.objects.get(user__username="lisi@example.com")
    assert li.level == ReviewerLevel.GRASSROOTS
    wang = ReviewerProfile.objects.get(user__username="wangwu@example.com")
    assert wang.level == ReviewerLevel.DISTRICT  # industry unions review at district level


@pytest.mark.django_db
def test_without_commit_nothing_is_saved(tree, roster_file, capsys):
    call_command("import_roster", str(roster_file(*GOOD)))
    assert "校验通过" in capsys.readouterr().out
    assert not ReviewerProfile.objects.exists()
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_an_unknown_union_rejects_that_row_and_the_file_saves_nothing(tree, roster_file, capsys):
    with pytest.raises(CommandError) as exc:
        call_command("import_roster", str(roster_file(*GOOD, BAD_UNION)), "--commit")
    assert "未保存任何数据" in str(exc.value)
    err = capsys.readouterr().err
    assert "第 4 行：审核工会名称：「越秀区工会」与平台登记的工会名称不一致" in err
    assert not ReviewerProfile.objects.exists()
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_bad_phone_and_email_are_reported_with_the_field_named(tree, roster_file, capsys):
    rows = ["1,钱七,020-83001234,not-an-email,越秀区总工会,越秀区总工会"]
    with pytest.raises(CommandError):
        call_command("import_roster", str(roster_file(*rows)), "--commit")
    err = capsys.readouterr().err
    assert "第 1 行：手机号：请填写手机号码，而不是固定电话" in err
    assert "第 1 行：邮箱：「not-an-email」不是有效的邮箱地址" in err
    assert not ReviewerProfile.objects.exists()


@pytest.mark.django_db
def test_an_unregistered_union_is_refused(tree, roster_file, capsys):
    tree.a2.registered = False
    tree.a2.save()
    rows = ["1,孙八,13800005555,sunba@example.com,越秀区乙公司工会,越秀区乙公司工会"]
    with pytest.raises(CommandError):
        call_command("import_roster", str(roster_file(*rows)), "--commit")
    assert "尚未在平台注册" in capsys.readouterr().err


@pytest.mark.django_db
def test_reimport_updates_instead_of_duplicating(tree, roster_file):
    call_command("import_roster", str(roster_file(*GOOD[:1])), "--commit")
    user = get_user_model().objects.get(username="zhangsan@example.com")
    user.set_password("chosen-by-the-admin")
    user.save()
    again = "1,张三丰,13800001111,zhangsan@example.com,越秀区总工会,海珠区总工会"
    call_command("import_roster", str(roster_file(again)), "--commit")
    profile = ReviewerProfile.objects.get()
    assert profile.name == "张三丰"
    assert set(profile.managed_unions.all()) == {tree.yuexiu, tree.haizhu}
    profile.user.refresh_from_db()
    assert profile.user.check_password("chosen-by-the-admin")


@pytest.mark.django_db
def test_a_phone_used_by_another_reviewer_is_refused(tree, roster_file, capsys):
    rows = [GOOD[0], "2,周九,13800001111,zhoujiu@example.com,越秀区总工会,越秀区总工会"]
    with pytest.raises(CommandError):
        call_command("import_roster", str(roster_file(*rows)), "--commit")
    assert "第 2 行：手机号：13800001111 已被其他审核员使用" in capsys.readouterr().err
    assert not ReviewerProfile.objects.exists()


@pytest.mark.django_db
def test_the_unions_spreadsheet_template_with_title_and_two_header_rows(tree, tmp_path):
    """Attachment 4 as the unions fill it: a title row, 审核工会名称 in a merged cell above
    the header row, numbers as spreadsheet numbers, empty template rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["基层工会管理员账号汇总表"])
    ws.append(
        [
            "审核员基本信息",
            None,
            None,
            None,
            None,
            "审核工会名称\n(注意:必须名称与粤工惠上登记的一致)",
        ]
    )
    ws.append(["序号", "姓名", "手机号", "邮箱", "所属工会", None])
    ws.append(
        [1, "张三", 13800001111, "zhangsan@example.com", "越秀区甲公司工会", "越秀区甲公司工会"]
    )
    ws.append([2, None, None, None, None, None])
    path = tmp_path / "附件4.xlsx"
    wb.save(path)
    call_command("import_roster", str(path), "--commit")
    profile = ReviewerProfile.objects.get()
    assert profile.phone == "13800001111"
    assert list(profile.managed_unions.all()) == [tree.a1]


def _import_page(client, path):
    with path.open("rb") as fh:
        return client.post(
            "/admin/unions/reviewerprofile/import/",
            {"import_file": fh, "format": "1", "resource": "0"},  # 1 = csv
        )


@pytest.mark.django_db
def test_admin_dry_run_of_a_bad_file_shows_the_row_error_and_offers_no_confirm(
    tree, roster_file, admin_client
):
    response = _import_page(admin_client, roster_file(*GOOD, BAD_UNION))
    assert response.status_code == 200
    html = response.content.decode()
    assert "「越秀区工会」与平台登记的工会名称不一致" in html
    assert "process_import" not in html  # no confirm form
    assert not ReviewerProfile.objects.exists()


@pytest.mark.django_db
def test_admin_dry_run_then_confirm_saves_a_good_file(tree, roster_file, admin_client):
    response = _import_page(admin_client, roster_file(*GOOD))
    html = response.content.decode()
    assert "process_import" in html
    assert not ReviewerProfile.objects.exists()  # the dry run saved nothing
    hidden = dict(re.findall(r'name="(\w+)" value="([^"]*)"', html))
    confirm = {k: hidden[k] for k in ("import_file_name", "original_file_name", "format")}
    confirm["resource"] = hidden.get("resource", "0")
    response = admin_client.post("/admin/unions/reviewerprofile/process_import/", confirm)
    assert response.status_code == 302
    assert ReviewerProfile.objects.count() == 3


@pytest.mark.django_db
def test_the_database_holds_one_reviewer_per_phone(tree):
    from django.db import IntegrityError, transaction

    from tests.factories import ReviewerFactory

    ReviewerFactory(phone="13800007777")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewerFactory(phone="13800007777")
    ReviewerFactory(phone="")
    ReviewerFactory(phone="")  # accounts without a phone (e-mail sign-in) are fine
