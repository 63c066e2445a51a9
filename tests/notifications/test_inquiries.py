"""The inquiry register: scoped like applications; someone else's id is 404."""

from io import BytesIO

import pytest
from openpyxl import load_workbook

from notifications.models import Inquiry

pytestmark = pytest.mark.django_db


@pytest.fixture
def inquiries(tree):
    make = lambda union, name: Inquiry.objects.create(  # noqa: E731
        union=union, name=name, phone="13912345678", category="consultation", text="何时发放？"
    )
    return type(
        "I",
        (),
        dict(a1=make(tree.a1, "甲"), a2=make(tree.a2, "乙"), b1=make(tree.b1, "丙")),
    )


@pytest.mark.parametrize(
    "who, visible",
    [
        ("grassroots_a", {"甲"}),
        ("district_yuexiu", {"甲", "乙"}),
        ("district_haizhu", {"丙"}),
        ("industry", set()),
        ("city", {"甲", "乙", "丙"}),
    ],
)
def test_list_is_scoped(client, reviewers, inquiries, who, visible):
    user = getattr(reviewers, who).user
    assert {i.name for i in Inquiry.objects.visible_to(user)} == visible
    client.force_login(user)
    html = client.get("/inquiries/").content.decode()
    for name in ("甲", "乙", "丙"):
        assert (f"<td>{name}</td>" in html) == (name in visible)
    assert "13912345678" not in html  # phone masked in the list
    assert "139****5678" in html or not visible


def test_someone_elses_inquiry_is_404(client, reviewers, inquiries):
    client.force_login(reviewers.grassroots_a.user)
    assert client.get(f"/inquiries/{inquiries.a1.pk}/").status_code == 200
    assert client.get(f"/inquiries/{inquiries.b1.pk}/").status_code == 404
    r = client.post(f"/inquiries/{inquiries.b1.pk}/", {"answer": "x"})
    assert r.status_code == 404
    client.force_login(reviewers.district_haizhu.user)
    assert client.get(f"/inquiries/{inquiries.a2.pk}/").status_code == 404


def test_applicants_cannot_open_the_register(client, member, inquiries):
    client.force_login(member.user)
    assert client.get("/inquiries/").status_code == 404
    assert client.get(f"/inquiries/{inquiries.a1.pk}/").status_code == 404


def _form(union, **over):
    data = dict(
        union=union.pk,
        name="王小明",
        phone="13900001111",
        category="appeal",
        text="希望延长申领时间",
        answer="",
        status="open",
    )
    data.update(over)
    return data


def test_record_and_answer(client, reviewers, tree):
    client.force_login(reviewers.grassroots_a.user)
    r = client.post("/inquiries/new/", _form(tree.a1))
    assert r.status_code == 302
    inquiry = Inquiry.objects.get(name="王小明")
    assert inquiry.recorded_by == reviewers.grassroots_a.user
    r = client.post(
        f"/inquiries/{inquiry.pk}/", _form(tree.a1, answer="已解释申领时间", status="answered")
    )
    assert r.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == "answered" and inquiry.answer == "已解释申领时间"


def test_id_and_card_numbers_in_an_inquiry_are_kept_masked(client, reviewers, tree):
    client.force_login(reviewers.grassroots_a.user)
    text = "身份证 440104198001010011，卡号 6222021234567890128 何时发放？"
    assert client.post("/inquiries/new/", _form(tree.a1, text=text)).status_code == 302
    inquiry = Inquiry.objects.get(name="王小明")
    assert inquiry.text == "身份证 440104********0011，卡号 ****0128 何时发放？"
    client.post(
        f"/inquiries/{inquiry.pk}/",
        _form(tree.a1, answer="已核对 6222021234567890128", status="answered"),
    )
    inquiry.refresh_from_db()
    assert inquiry.answer == "已核对 ****0128"


def test_an_id_number_typed_as_the_name_or_in_groups_is_masked(client, reviewers, tree):
    client.force_login(reviewers.grassroots_a.user)
    data = _form(tree.a1, text="身份证 440104 19800101 0011 问进度")
    data["name"] = "440104198001010011"
    assert client.post("/inquiries/new/", data).status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.name == "440104********0011"
    assert inquiry.text == "身份证 440104********0011 问进度"


def test_a_typed_formula_is_text_in_the_export(client, reviewers, tree):
    client.force_login(reviewers.grassroots_a.user)
    data = _form(tree.a1, text='=HYPERLINK("http://x/","详情")')
    assert client.post("/inquiries/new/", data).status_code == 302
    r = client.get("/inquiries/?export=xlsx")
    ws = load_workbook(BytesIO(r.content)).active
    cells = [c for row in ws.iter_rows() for c in row if "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type != "f" for c in cells)


def test_cannot_record_for_a_union_outside_scope(client, reviewers, tree):
    client.force_login(reviewers.grassroots_a.user)
    r = client.post("/inquiries/new/", _form(tree.b1))
    assert r.status_code == 200
    assert "请选择您管理范围内的工会" in r.content.decode()
    assert not Inquiry.objects.exists()


def test_bad_phone_gets_a_chinese_message_and_keeps_input(client, reviewers, tree):
    client.force_login(reviewers.grassroots_a.user)
    r = client.post("/inquiries/new/", _form(tree.a1, phone="12"))
    html = r.content.decode()
    assert r.status_code == 200 and "联系电话" in html and "希望延长申领时间" in html
    assert not Inquiry.objects.exists()


def test_filter_and_export_stay_in_scope(client, reviewers, inquiries):
    Inquiry.objects.filter(pk=inquiries.a2.pk).update(status="answered")
    client.force_login(reviewers.district_yuexiu.user)
    html = client.get("/inquiries/?status=answered").content.decode()
    assert "<td>乙</td>" in html and "<td>甲</td>" not in html
    r = client.get("/inquiries/?export=xlsx")
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.content)).active
    header = [c.value for c in ws[1]]
    names = sorted(
        row[header.index("职工姓名")] for row in ws.iter_rows(min_row=2, values_only=True)
    )
    assert names == ["乙", "甲"] or names == sorted(["甲", "乙"])
    assert "丙" not in names
