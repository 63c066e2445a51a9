"""Every validation error of the form, with its Chinese message and machine code, through the
API (error shape {code, detail}) and the page (re-rendered with what was typed)."""

import pytest

from subsidy.models import Application, CommitmentLetter
from subsidy.refcache import current_commitment
from tests.subsidy.conftest import (
    CCB_DEBIT,
    ICBC_CREDIT,
    form_data,
    image_bytes,
    photo,
    post_application,
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides,code,field",
    [
        ({"kind": None}, "kind_required", "kind"),
        ({"kind": "full_time"}, "kind_required", "kind"),
        ({"study_number": ""}, "number_required", "study_number"),
        ({"study_number": "2024/44#01"}, "number_format", "study_number"),
        ({"study_number": "12345"}, "number_format", "study_number"),
        ({"study_number": "学号2024440100"}, "number_format", "study_number"),
        ({"study_number": "2024 4401 00123"}, "number_needs_confirmation", "study_number"),
        (
            {"study_number": "２０２４４４０１００１２３"},
            "number_needs_confirmation",
            "study_number",
        ),
        ({"study_number": "ab2024440100"}, "number_needs_confirmation", "study_number"),
        ({"worker_group": None}, "worker_group_required", "worker_group"),
        ({"worker_group": "boss"}, "worker_group_required", "worker_group"),
        ({"hukou": None}, "hukou_required", "hukou"),
        ({"job_position": ""}, "job_position_required", "job_position"),
        ({"job_position": "岗" * 101}, "job_position_too_long", "job_position"),
        ({"bank_account": ""}, "account_required", "bank_account"),
        ({"bank_account": "6222-abc"}, "account_format", "bank_account"),
        ({"bank_account": "622202100111"}, "account_length", "bank_account"),
        ({"bank_account": "6222020000000000001"}, "account_checksum", "bank_account"),
        ({"bank_account": ICBC_CREDIT}, "bank_credit_card", "bank_account"),
        ({"bank_account": CCB_DEBIT}, "bank_not_icbc", "bank_account"),
        ({"bank_branch": ""}, "branch_required", "bank_branch"),
        ({"bank_branch": "广"}, "branch_required", "bank_branch"),
        ({"union_contact_phone": ""}, "phone_required", "union_contact_phone"),
        ({"union_contact_phone": "0755-83001234"}, "phone_invalid", "union_contact_phone"),
        ({"union_contact_phone": "12345"}, "phone_invalid", "union_contact_phone"),
        ({"union_contact_phone": "020-12345"}, "phone_invalid", "union_contact_phone"),
        ({"union_contact_phone": "12345678"}, "phone_invalid", "union_contact_phone"),
        ({"confirm_identity": None}, "identity_not_confirmed", "confirm_identity"),
        ({"accept_commitment": None}, "commitment_required", "accept_commitment"),
        ({"commitment_version": None}, "commitment_required", "commitment_version"),
        ({"commitment_version": "0"}, "commitment_outdated", "commitment_version"),
        ({"card_photo": ""}, "photo_required", "card_photo"),
        ({"card_photo": None}, "photo_required", "card_photo"),
        ({"job_position": "数控\x00车工"}, "text_garbled", "job_position"),
        ({"bank_branch": "工行\ufffd\ufffd支行"}, "text_garbled", "bank_branch"),
        ({"bank_account": "6" * 41}, "bank_account_too_long", "bank_account"),
        ({"union_contact_phone": "1" * 33}, "union_contact_phone_too_long", "union_contact_phone"),
        ({"commitment_version": "abc"}, "commitment_required", "commitment_version"),
    ],
)
def test_each_validation_error_has_its_code(api, applicant, campaign, overrides, code, field):
    if overrides.get("card_photo") == "":
        overrides = {"card_photo": photo("x.jpg", b"")}
    r = post_application(api, **overrides)
    assert r.status_code == 400, r.json()
    body = r.json()
    assert any(e["code"] == code and e["field"] == field for e in body["errors"]), body
    assert body["code"] == body["errors"][0]["code"]
    assert body["detail"] and all(ord(c) < 128 for c in body["code"])
    detail = next(e["detail"] for e in body["errors"] if e["field"] == field)
    assert "确保" not in detail and "空字符串" not in detail and "输入整数" not in detail
    assert Application.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data,code",
    [
        (b"not an image" * 10, "photo_type"),
        (b"\xff\xd8" + b"0" * (6 * 1024 * 1024), "photo_too_large"),
    ],
)
def test_photo_errors_through_the_api(api, applicant, campaign, data, code):
    r = post_application(api, card_photo=photo("card.jpg", data))
    assert r.status_code == 400 and r.json()["code"] == code


@pytest.mark.django_db
def test_number_warning_is_accepted_once_confirmed(api, applicant, campaign):
    r = post_application(api, study_number="ab2024440100")
    assert r.json()["warnings"] == [
        {"code": "number_lower_case", "detail": "编号中含有小写字母，请核对大小写"}
    ]
    r = post_application(api, study_number="ab2024440100", confirm_number="true")
    assert r.status_code == 201
    assert Application.objects.get().study_number == "ab2024440100"  # stored as confirmed


@pytest.mark.django_db
def test_self_study_variant_uses_the_certificate_number(api, applicant, campaign):
    r = post_application(api, kind="self_study", study_number="144011202405000123")
    assert r.status_code == 201
    app = Application.objects.get()
    assert app.kind == "self_study" and app.number_label == "毕业证书编号"


@pytest.mark.django_db
def test_guangzhou_landline_and_mobile_are_accepted(api, applicant, campaign):
    r = post_application(api, union_contact_phone="83001234")
    assert r.status_code == 201
    assert Application.objects.get().union_contact_phone == "020-83001234"


@pytest.mark.django_db
def test_new_commitment_version_is_the_one_stored(api, applicant, campaign):
    CommitmentLetter.objects.update(active=False)
    CommitmentLetter.objects.create(version=2, text="新承诺书", active=True)
    assert post_application(api).json()["code"] == "commitment_outdated"
    r = post_application(api, commitment_version="2")
    assert r.status_code == 201
    assert Application.objects.get().commitment.version == 2


# --- the page ---------------------------------------------------------------------------
def _page_token(client):
    html = client.get("/apply/form/").content.decode()
    return html.split('name="form_token" value="')[1].split('"')[0]


@pytest.mark.django_db
def test_form_page_shows_identity_and_commitment(client, applicant, campaign):
    client.force_login(applicant.user)
    html = client.get("/apply/form/").content.decode()
    assert applicant.name in html and applicant.masked_id_number in html
    assert applicant.id_number not in html
    assert applicant.masked_mobile in html and applicant.union.name in html
    assert "中国工商银行" in html and "承诺书" in html
    assert current_commitment.get().text.splitlines()[0] in html  # the current version


@pytest.mark.django_db
def test_a_form_error_keeps_what_was_typed(client, applicant, campaign):
    client.force_login(applicant.user)
    token = _page_token(client)
    data = form_data(bank_account=CCB_DEBIT, job_position="焊工班长", form_token=token)
    data["card_photo"] = photo()
    r = client.post("/apply/form/", data)
    assert r.status_code == 400
    html = r.content.decode()
    assert "开户行仅限中国工商银行" in html
    assert 'value="焊工班长"' in html and 'value="中国工商银行广州天河支行"' in html
    assert "2024440100123" in html
    assert "请重新选择照片" in html
    assert Application.objects.count() == 0


@pytest.mark.django_db
def test_page_warns_about_a_space_and_submits_after_confirmation(client, applicant, campaign):
    client.force_login(applicant.user)
    token = _page_token(client)
    data = form_data(study_number="2024 440100123", form_token=token)
    r = client.post("/apply/form/", {**data, "card_photo": photo()})
    assert r.status_code == 400 and "编号中含有空格" in r.content.decode()
    r = client.post("/apply/form/", {**data, "confirm_number": "on", "card_photo": photo()})
    assert r.status_code == 302 and r["Location"] == "/apply/progress/"


@pytest.mark.django_db
def test_double_click_creates_one_application(client, applicant, campaign):
    client.force_login(applicant.user)
    token = _page_token(client)
    data = form_data(form_token=token)
    first = client.post("/apply/form/", {**data, "card_photo": photo()})
    second = client.post("/apply/form/", {**data, "card_photo": photo()})
    assert first.status_code == second.status_code == 302
    assert Application.objects.count() == 1


@pytest.mark.django_db
def test_a_forged_form_token_is_refused(client, applicant, campaign):
    client.force_login(applicant.user)
    _page_token(client)
    r = client.post("/apply/form/", {**form_data(form_token="made-up"), "card_photo": photo()})
    assert r.status_code == 400 and b'data-code="form_expired"' in r.content
    assert Application.objects.count() == 0


@pytest.mark.django_db
def test_png_named_jpg_submits_and_is_stored_as_jpeg(api, applicant, campaign):
    r = post_application(api, card_photo=photo("card.jpg", image_bytes("PNG"), "image/jpeg"))
    assert r.status_code == 201


@pytest.mark.django_db
def test_each_form_has_its_own_copy_of_every_field():
    """CheapCopy (subsidy.forms) copies the fields as Django's deepcopy does: a change to one
    form's field, widget, attrs, messages, validators or choices stays in that form."""
    from subsidy.forms import ApplicationForm

    one, two = ApplicationForm(), ApplicationForm()
    base = ApplicationForm.base_fields
    for name, field in one.fields.items():
        other = two.fields[name]
        assert field is not other and field is not base[name]
        assert field.widget is not other.widget and field.widget is not base[name].widget
        assert field.widget.attrs is not other.widget.attrs
        assert field.error_messages is not other.error_messages
        assert field.validators is not other.validators
        assert type(field) is type(base[name]) and type(field.widget) is type(base[name].widget)
    one.fields["job_position"].widget.attrs["class"] = "changed"
    one.fields["job_position"].error_messages["required"] = "changed"
    one.fields["job_position"].validators.append(lambda value: None)
    one.fields["kind"].choices = [("x", "x")]
    one.fields["kind"].widget.choices.append(("y", "y"))
    assert "class" not in two.fields["job_position"].widget.attrs
    assert two.fields["job_position"].error_messages["required"] == "请填写工作岗位"
    assert len(two.fields["job_position"].validators) == len(base["job_position"].validators)
    assert [v for v, _ in two.fields["kind"].choices] == [v for v, _ in base["kind"].choices]
    assert ("y", "y") not in list(two.fields["kind"].widget.choices)
    assert ("y", "y") not in list(ApplicationForm().fields["kind"].widget.choices)
