"""SMS as registered templates: the catalogue, the rows staff complete, building a message,
and what the development backends print."""

import json

import pytest

from sms import catalogue
from sms.backends import ConsoleBackend, FileBackend, LocmemBackend
from sms.models import SmsTemplate, sync_catalogue
from sms.sending import build, send
from subsidy.services import otp

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("entry", catalogue.ENTRIES, ids=lambda e: e.key)
def test_every_default_template_is_valid_and_renders_its_sample(entry):
    assert catalogue.check_text(entry, entry.text, "求学圆梦") == []
    assert sorted(catalogue.variables(entry.text)) == sorted(entry.params)
    message = build("13900000001", entry.key, entry.sample)
    assert message.text.startswith("【求学圆梦】")
    assert "${" not in message.text
    for value in entry.sample.values():
        assert value in message.text


def test_the_sign_in_code_template_states_the_codes_real_validity():
    text = catalogue.get("login_code").text
    assert f"{otp.OTP_TTL_SECONDS // 60} 分钟内有效" in text


def test_migrate_creates_one_row_per_catalogue_entry_and_keeps_staff_edits():
    assert set(SmsTemplate.objects.values_list("key", flat=True)) == set(catalogue.CATALOGUE)
    row = SmsTemplate.objects.get(key="login_code")
    row.provider_code = "SMS_4711"
    row.save()
    SmsTemplate.objects.filter(key="staff_digest").delete()
    sync_catalogue()
    assert SmsTemplate.objects.get(key="login_code").provider_code == "SMS_4711"
    assert SmsTemplate.objects.filter(key="staff_digest").exists()


def test_parameters_are_checked_cleaned_and_cut_to_the_gateways_35_characters():
    with pytest.raises(ValueError):
        build("13900000001", "grassroots_new", {"union": "x", "queue": "1"})  # deadline missing
    with pytest.raises(ValueError):
        build("13900000001", "login_code", {"code": "123456", "minutes": "5"})  # unknown
    with pytest.raises(ValueError):
        build("13900000001", "login_code", {"code": "12 34"})  # not a code
    with pytest.raises(LookupError):
        build("13900000001", "no_such_template", {})
    m = build(
        "13900000001",
        "applicant_status_reason",
        {
            "queue": 7,
            "status": "基层工会审核不通过",
            "reason": "第一行\n第二行\x00" + "很长的原因" * 20,
            "next_step": "",
            "hotline": "越秀区总工会 87370160",
        },
    )
    assert m.params["queue"] == "7"
    assert len(m.params["reason"]) == 35 and m.params["reason"].endswith("…")
    assert "\n" not in m.params["reason"] and "\x00" not in m.params["reason"]
    assert m.params["next_step"] == "-"  # the gateway refuses an empty variable


def test_staff_wording_and_signature_are_used_for_the_next_message():
    row = SmsTemplate.objects.get(key="login_code")
    row.text = "验证码 ${code}，请勿告诉他人。"
    row.sign_name = "广州市总工会"
    row.full_clean()
    row.save()
    send("13900000001", "login_code", code="654321")
    message = LocmemBackend.messages[-1]
    assert message.text == "【广州市总工会】验证码 654321，请勿告诉他人。"
    assert message.params == {"code": "654321"} and message.sign_name == "广州市总工会"
    assert LocmemBackend.outbox[-1] == ("13900000001", message.text)


def test_console_prints_the_rendered_text_with_the_phone_masked(capsys):
    ConsoleBackend().send(build("13900000001", "login_code", {"code": "123456"}))
    out = capsys.readouterr().out
    assert "139****0001" in out and "13900000001" not in out
    assert "【求学圆梦】您的登录验证码为 123456，5 分钟内有效" in out


def test_file_backend_writes_the_text_then_the_template_it_stands_for(tmp_path):
    FileBackend(tmp_path).send(build("13900000001", "login_code", {"code": "123456"}))
    (written,) = tmp_path.glob("*.txt")
    content = written.read_text(encoding="utf-8")
    assert content.startswith("To: 13900000001\n\n【求学圆梦】您的登录验证码为 123456")
    assert "template login_code" in content
    assert json.dumps({"code": "123456"}) in content


# --- the admin ---------------------------------------------------------------------------


@pytest.fixture
def city_admin(client, django_user_model):
    user = django_user_model.objects.create_superuser("cityadmin", "c@example.org", "pw-12345678")
    client.force_login(user)
    return client


def _post(client, row, **changes):
    data = {"provider_code": row.provider_code, "sign_name": row.sign_name, "text": row.text}
    data.update(changes)
    return client.post(f"/admin/sms/smstemplate/{row.pk}/change/", data)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"text": "验证码 ${code} 用于 ${purpose}"}, "模板含有系统不提供的变量：${purpose}"),
        ({"text": "您的验证码已发送"}, "模板缺少变量：${code}"),
        ({"text": "【求学圆梦】验证码 ${code}"}, "模板内容不能含有【】"),
        ({"text": "验证码 ${code}，再说一遍 ${code}"}, "同一变量只能出现一次"),
        ({"sign_name": "【求学圆梦】"}, "短信签名不含【】"),
        ({"sign_name": "圆"}, "短信签名应为 2–12 个字"),
        ({"provider_code": "SMS 123;"}, "模板编号只含字母、数字和下划线"),
    ],
)
def test_admin_refuses_a_template_the_gateway_would_refuse(city_admin, changes, message):
    row = SmsTemplate.objects.get(key="login_code")
    before = (row.text, row.sign_name, row.provider_code)
    response = _post(city_admin, row, **changes)
    assert response.status_code == 200
    assert message in response.content.decode()
    row.refresh_from_db()
    assert (row.text, row.sign_name, row.provider_code) == before


def test_admin_saves_the_registered_code_and_previews_the_message(city_admin):
    row = SmsTemplate.objects.get(key="grassroots_new")
    response = _post(city_admin, row, provider_code="SMS_465123456")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.provider_code == "SMS_465123456"
    page = city_admin.get(f"/admin/sms/smstemplate/{row.pk}/change/").content.decode()
    assert "【求学圆梦】越秀区示范单位工会有新的职工学历教育补助申领待审核" in page
    assert "${deadline}" in page  # the variables it may use are listed
    assert city_admin.get("/admin/sms/smstemplate/add/").status_code == 403
