"""The provider backend against the gateway simulator over HTTP: the request has the
gateway's shape and signature, and every answer code lands where it should — sent, retried
later, permanent, or ambiguous — also for an outbox row."""

import pytest

from notifications.models import DeliveryStatus, Notification, NotificationKind
from notifications.services import delivery
from notifications.services.messages import sms_content
from sms.backends import PERMANENT_CODES, ProviderBackend, rpc_signature
from sms.models import SmsTemplate
from sms.sending import AmbiguousSMSError, PermanentSMSError, SMSError, send

pytestmark = pytest.mark.django_db


def test_signature_matches_aliyuns_documented_example():
    # The worked example of Aliyun's RPC signature document (AccessKey secret "testsecret").
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert rpc_signature(params, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_sent_in_the_gateways_shape(gateway):
    message_id = send("13900000001", "login_code", out_id="outbox-key-1", code="482913")
    (sent,) = gateway.state()["sent"]
    code = SmsTemplate.objects.get(key="login_code").provider_code
    assert sent == {
        "phone": "13900000001",
        "sign": "求学圆梦",
        "template": code,
        "params": {"code": "482913"},
        "out_id": "outbox-key-1",
        "biz_id": message_id,
    }


def test_every_catalogue_template_is_accepted_with_its_sample(gateway):
    from sms import catalogue

    for entry in catalogue.ENTRIES:
        send("13900000001", entry.key, **entry.sample)
    assert gateway.state()["counters"]["accepted"] == len(catalogue.ENTRIES)


def test_a_template_without_its_registered_code_is_never_sent(gateway):
    SmsTemplate.objects.filter(key="login_code").update(provider_code="")
    with pytest.raises(PermanentSMSError, match="未填写短信平台模板编号"):
        send("13900000001", "login_code", code="482913")
    assert gateway.state()["counters"]["requests"] == 0


@pytest.mark.parametrize(
    "setup, expected, code",
    [
        ({"fault": "isv.BUSINESS_LIMIT_CONTROL"}, SMSError, "isv.BUSINESS_LIMIT_CONTROL"),
        ({"fault": "isp.SYSTEM_ERROR"}, SMSError, "isp.SYSTEM_ERROR"),
        ({"fault": "isv.OUT_OF_SERVICE"}, SMSError, "isv.OUT_OF_SERVICE"),
        ({"fault": "isv.DAY_LIMIT_CONTROL"}, SMSError, "isv.DAY_LIMIT_CONTROL"),
        ({"fault": "isv.BLACK_KEY_CONTROL_LIMIT"}, PermanentSMSError, "BLACK_KEY"),
        ({"signs": ["另一个签名"], "reset_signs": True}, PermanentSMSError, "SIGNATURE_ILLEGAL"),
    ],
)
def test_answer_codes_are_mapped_to_retry_or_permanent(gateway, setup, expected, code):
    if setup.pop("reset_signs", False):
        templates = gateway.state()["templates"]
        gateway.control(reset=True)
        gateway.control(templates=templates, signs=setup.pop("signs"))
    gateway.control(**setup)
    with pytest.raises(SMSError) as info:
        send("13900000001", "login_code", code="482913")
    assert type(info.value) is expected
    assert code in str(info.value)


def test_the_gateway_checks_number_template_and_parameters(gateway):
    with pytest.raises(PermanentSMSError, match="MOBILE_NUMBER_ILLEGAL"):
        send("1390000000", "login_code", code="482913")
    SmsTemplate.objects.filter(key="login_code").update(provider_code="SMS_999")
    with pytest.raises(PermanentSMSError, match="SMS_TEMPLATE_ILLEGAL"):
        send("13900000001", "login_code", code="482913")
    assert "isv.TEMPLATE_MISSING_PARAMETERS" in PERMANENT_CODES
    assert "isv.PARAM_LENGTH_LIMIT" in PERMANENT_CODES


def test_wrong_key_or_secret_is_retried_not_permanent(gateway, settings):
    settings.SMS_PROVIDER_KEY = "not-the-secret"  # fixable by the operator: keep the message
    with pytest.raises(SMSError) as info:
        send("13900000001", "login_code", code="482913")
    assert type(info.value) is SMSError and "SignatureDoesNotMatch" in str(info.value)
    settings.SMS_PROVIDER_KEY_ID = "unknown"
    with pytest.raises(SMSError, match="InvalidAccessKeyId"):
        send("13900000001", "login_code", code="482913")


def test_no_answer_is_ambiguous_and_unreachable_is_retried(gateway, settings):
    gateway.control(mode="hang")
    backend = ProviderBackend(timeout=0.3)
    from sms.sending import build

    with pytest.raises(AmbiguousSMSError):
        backend.send(build("13900000001", "login_code", {"code": "482913"}))
    gateway.control(mode="ok")
    unreachable = ProviderBackend(url="http://127.0.0.1:9/")
    with pytest.raises(SMSError) as info:
        unreachable.send(build("13900000001", "login_code", {"code": "482913"}))
    assert type(info.value) is SMSError


def _row(key="grassroots_new", **params):
    params = params or {"union": "越秀区甲公司工会", "queue": "12", "deadline": "05月20日18:00"}
    return Notification.objects.create(
        kind=NotificationKind.GRASSROOTS_NEW,
        channel="sms",
        recipient="13800000001",
        **sms_content(key, params),
    )


def test_outbox_row_sent_through_the_gateway_with_its_key_as_out_id(gateway):
    row = _row()
    assert delivery.deliver(row.pk) == DeliveryStatus.SENT
    row.refresh_from_db()
    (sent,) = gateway.state()["sent"]
    assert sent["out_id"] == str(row.key) and row.channel_message_id == sent["biz_id"]
    assert sent["params"] == row.data


def test_outbox_row_flow_control_is_retried_later(gateway):
    gateway.control(fault="isv.BUSINESS_LIMIT_CONTROL", count=1)
    row = _row()
    assert delivery.deliver(row.pk) == DeliveryStatus.PENDING
    row.refresh_from_db()
    assert "BUSINESS_LIMIT_CONTROL" in row.last_error and row.next_attempt_at is not None


def test_outbox_row_refused_for_good_fails_at_once(gateway):
    gateway.control(fault="isv.MOBILE_NUMBER_ILLEGAL", count=1)
    row = _row()
    assert delivery.deliver(row.pk) == DeliveryStatus.FAILED
    row.refresh_from_db()
    assert row.attempts == 1 and "MOBILE_NUMBER_ILLEGAL" in row.last_error
    assert delivery.due_ids() == []


def test_outbox_row_without_answer_is_unconfirmed_and_not_resent(gateway, settings):
    settings.SMS_PROVIDER_TIMEOUT = 0.3
    gateway.control(mode="hang")
    row = _row()
    assert delivery.deliver(row.pk) == DeliveryStatus.UNCONFIRMED
    gateway.control(mode="ok")
    assert delivery.due_ids() == []


def test_a_free_text_row_from_before_the_templates_is_refused_not_sent_as_free_text(gateway):
    row = Notification.objects.create(
        kind=NotificationKind.GRASSROOTS_NEW, channel="sms", recipient="13800000001", text="旧"
    )
    assert delivery.deliver(row.pk) == DeliveryStatus.FAILED
    assert gateway.state()["counters"]["requests"] == 0
