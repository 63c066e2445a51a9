"""Who gets what (SPEC §9): the outbox rows a status change creates.

Called from the signal receivers inside the transaction that changes the application, so a
rolled-back change leaves no message. Delivery is queued for after the commit.
"""

import uuid

from django.db import connection
from django.utils import timezone

from notifications import conf
from notifications.models import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationKind,
    WeChatBinding,
)
from sms.sending import build as sms_build
from sms.sending import template as sms_template
from subsidy.models import Application, Campaign
from subsidy.models import ApplicationStatus as S
from subsidy.services import places
from unions.models import Member, ReviewerLevel, ReviewerProfile, Union

SIGNATURE = "【求学圆梦】"

NEXT_STEP = {
    S.PENDING_CHSI: "系统正在通过学信网校核您的学历信息，请耐心等待。",
    S.CHSI_FAILED: "请核对学籍学号/毕业证书编号后，在申领截止前重新提交申领。",
    S.PENDING_GRASSROOTS: "学历校核已通过，正在等待基层工会审核。",
    S.GRASSROOTS_REJECTED: "请按不通过原因修改后，在申领截止前重新提交申领。",
    S.PENDING_DISTRICT: "基层工会审核已通过，正在等待区总工会，产业、直属单位工会审核。",
    S.DISTRICT_REJECTED: "请按不通过原因修改后，在申领截止前重新提交申领。",
    S.PENDING_CITY: "正在等待市总工会审核。",
    S.CITY_REJECTED: "本批次申领已结束，不能再次提交。",
    S.APPROVED: "市总工会审核已通过，补助名单在各级审核结束后确定并公示，届时另行通知。",
    S.FUNDED: "您已列入拟获补助名单，名单公示期满后发放补助。",
    S.WAITLISTED: "补助名额已满，您已列入候补名单，如有名额空出将按排名递补。",
    S.REVOKED: "您的补助资格已被取消，如有疑问请致电咨询。",
    S.PAYMENT_FAILED: "补助发放失败，请联系所属工会核对银行账户信息。",
    S.PAID: "补助已发放至您登记的工商银行账户，请注意查收。",
}

# A waitlisted row while places are still free (places.WAITLIST_OPEN_LABEL): never "名额已满".
WAITLIST_OPEN_NEXT_STEP = "名额正在分配，您暂列候补，将按排名递补，结果另行通知。"

REJECTED = {S.CHSI_FAILED, S.GRASSROOTS_REJECTED, S.DISTRICT_REJECTED, S.CITY_REJECTED}


def hotline_for(union, campaign) -> str:
    """The district union's hotline (附件1), else the campaign's general one."""
    district = union.district
    if district is not None and district.hotline:
        return f"{district.name} {district.hotline.replace(';', '、')}"
    name = campaign.general_hotline_name or "咨询电话"
    return f"{name} {campaign.general_hotline.replace(';', '、')}".strip()


def reason_of(application, target) -> str:
    if target == S.CHSI_FAILED:
        return application.registry_reason
    if target == S.REVOKED:
        return application.revoked_reason
    if target == S.PAYMENT_FAILED:
        return application.payment_failure_reason
    if target in REJECTED:
        return application.rejection_reason
    return ""


def applicant_sms(queue_number, target, reason, hotline, full=None) -> tuple[str, dict]:
    """The SMS template (sms.catalogue) and parameters of an applicant's status message."""
    params = {
        "queue": str(queue_number),
        "status": places.status_label(target, full),
        "next_step": next_step(target, full),
        "hotline": hotline or "-",
    }
    if reason:
        return "applicant_status_reason", {**params, "reason": reason.rstrip("。")}
    return "applicant_status", params


def sms_content(key: str, params: dict, row=None) -> dict:
    """An SMS outbox row's template_id (the template's key), data (its parameters, cleaned
    and cut as the gateway takes them) and text (as the recipient reads it)."""
    message = sms_build("", key, params, row=row)
    return {"template_id": key, "data": message.params, "text": message.text}


def applicant_text(application, target, reason="", full=None) -> str:
    hotline = hotline_for(application.union, application.campaign)
    return _applicant_text(application.queue_number, target, reason, hotline, full)


def _full_for(target, campaign) -> bool | None:
    """Whether the quota is really full — asked only for a move to the waitlist."""
    return places.quota_full(campaign) if target == S.WAITLISTED else None


def next_step(target, full=None) -> str:
    if target == S.WAITLISTED and full is False:
        return WAITLIST_OPEN_NEXT_STEP
    return NEXT_STEP.get(target, "")


def _applicant_text(queue_number, target, reason, hotline, full=None) -> str:
    """The whole message, uncut: what staff read in the delivery log of a WeChat row."""
    label = places.status_label(target, full)
    parts = [f"{SIGNATURE}您的学历教育补助申领（排队号{queue_number}）状态更新为：{label}。"]
    if reason:
        parts.append(f"原因：{reason}。")
    parts.append(f"下一步：{next_step(target, full)}")
    if hotline:
        parts.append(f"咨询电话：{hotline}。")
    return "".join(parts)


def _clip(text, n=20):
    return text if len(text) <= n else text[: n - 1] + "…"


def wechat_data(target, reason, full=None) -> dict:
    """Subscribe-message data for the status template (字段：申领事项、当前状态、备注、时间)."""
    note = reason or next_step(target, full)
    return {
        "thing1": {"value": "学历教育补助申领"},
        "phrase2": {"value": _clip(places.status_label(target, full), 5)},
        "thing3": {"value": _clip(note)},
        "time4": {"value": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
    }


def bindings_for(applications) -> dict | None:
    """{user_id: openid} of subscribed bindings for a batch (None unless WeChat is in use)."""
    return _bindings({a.member.user_id for a in applications if a.member.user_id})


def _bindings(user_ids) -> dict | None:
    if conf.applicant_channel() != Channel.WECHAT:
        return None
    return dict(
        WeChatBinding.objects.filter(user_id__in=user_ids, subscribed=True).values_list(
            "user_id", "openid"
        )
    )


def _applicant_route(application, bindings=None):
    """(channel, recipient, user): WeChat when the applicant has a subscribed openid and
    WeChat is the configured channel; otherwise SMS to the application's mobile."""
    user = application.member.user if application.member_id else None
    if bindings is None:
        bindings = bindings_for([application])
    mode = conf.applicant_channel()
    channel, recipient = _route(mode, application.mobile, user.pk if user else None, bindings)
    return channel, recipient, user


def _route(mode, mobile, user_id, bindings):
    """(channel, recipient) for one applicant, `mode` being the configured applicant channel
    and `bindings` what `_bindings` returns."""
    if mode == Channel.WECHAT:
        openid = (bindings or {}).get(user_id) if user_id else None
        if openid:
            return Channel.WECHAT, openid
        return Channel.SMS, mobile
    return mode, mobile


def for_transition(
    application, name, source, target, reason="", bindings=None
) -> list[Notification]:
    """The outbox rows (unsaved) one status change produces."""
    rows = []
    if application.notify_opt_in:
        reason = reason or reason_of(application, target)
        full = _full_for(target, application.campaign)
        channel, recipient, user = _applicant_route(application, bindings)
        hotline = hotline_for(application.union, application.campaign)
        queue = application.queue_number
        if channel == Channel.WECHAT:
            content = {
                "template_id": conf.wechat_template_status(),
                "data": wechat_data(target, reason, full),
                "text": _applicant_text(queue, target, reason, hotline, full),
            }
        elif channel == Channel.SMS:
            content = sms_content(*applicant_sms(queue, target, reason, hotline, full))
        else:
            content = {"text": _applicant_text(queue, target, reason, hotline, full)}
        rows.append(
            Notification(
                kind=NotificationKind.APPLICANT_STATUS,
                channel=channel,
                recipient=recipient,
                recipient_user=user,
                application=application,
                transition=f"{name}:{source}>{target}",
                subject="申领进度通知",
                **content,
            )
        )
    if target == S.PENDING_GRASSROOTS:
        rows.extend(_grassroots_rows(application, name, source, target))
    return rows


def grassroots_reviewers(union):
    return ReviewerProfile.objects.filter(
        level=ReviewerLevel.GRASSROOTS,
        active=True,
        can_review=True,
        managed_unions=union,
    ).exclude(phone="")


def _grassroots_rows(application, name, source, target):
    deadline = timezone.localtime(application.campaign.grassroots_review_until)
    content = sms_content(
        "grassroots_new",
        {
            "union": application.union.name,
            "queue": str(application.queue_number),
            "deadline": f"{deadline:%m月%d日%H:%M}",
        },
    )
    return [
        Notification(
            kind=NotificationKind.GRASSROOTS_NEW,
            channel=Channel.SMS,
            recipient=r.phone,
            recipient_user_id=r.user_id,
            application=application,
            transition=f"{name}:{source}>{target}",
            subject="待审核提醒",
            **content,
        )
        for r in grassroots_reviewers(application.union)
    ]


# The columns `for_moves` fills, in its rows' order: every column of Notification but the key
# and the ones that stay NULL until delivery (lease_until, claim_token, sent_at).
MOVE_COLUMNS = [
    "key",
    "kind",
    "channel",
    "recipient",
    "recipient_user_id",
    "application_id",
    "transition",
    "subject",
    "text",
    "template_id",
    "data",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "channel_message_id",
    "created_at",
]


def for_moves(moves, reason="") -> list[tuple]:
    """The applicants' outbox rows for many status changes made at once by allocation —
    [(application_id, transition_name, source, target)] — as plain rows in MOVE_COLUMNS order:
    the same messages `for_transition` writes for each, read in a fixed number of queries
    (applications, their unions and districts, the campaigns, the WeChat bindings) and never
    built as model instances. Only applicant notices: allocation never moves an application to
    a reviewer's queue."""
    if not moves:
        return []
    by_id = {m[0]: m for m in moves}
    apps = _applications_of(list(by_id))
    campaigns = Campaign.objects.in_bulk({a[5] for a in apps})
    unions = Union.objects.select_related("district").in_bulk({a[4] for a in apps})
    hotlines = {}
    waitlisting = {a[5] for a in apps if by_id[a[0]][3] == S.WAITLISTED}
    full = {cid: places.quota_full(campaigns[cid]) for cid in waitlisting}
    bindings = _bindings({a[6] for a in apps if a[6]})
    mode = conf.applicant_channel()
    status_template = conf.wechat_template_status()
    sms_rows = {key: sms_template(key) for key in ("applicant_status", "applicant_status_reason")}
    now = timezone.now()
    rows = []
    for app_id, queue_number, opt_in, mobile, union_id, campaign_id, user_id in apps:
        if not opt_in:
            continue
        _, name, source, target = by_id[app_id]
        key = (union_id, campaign_id)
        if key not in hotlines:
            hotlines[key] = hotline_for(unions[union_id], campaigns[campaign_id])
        channel, recipient = _route(mode, mobile, user_id, bindings)
        hotline = hotlines[key]
        is_full = full.get(campaign_id) if target == S.WAITLISTED else None
        if channel == Channel.WECHAT:
            content = {
                "template_id": status_template,
                "data": wechat_data(target, reason, is_full),
                "text": _applicant_text(queue_number, target, reason, hotline, is_full),
            }
        elif channel == Channel.SMS:
            sms_key, params = applicant_sms(queue_number, target, reason, hotline, is_full)
            content = sms_content(sms_key, params, row=sms_rows[sms_key])
        else:
            content = {
                "template_id": "",
                "data": {},
                "text": _applicant_text(queue_number, target, reason, hotline, is_full),
            }
        rows.append(
            (
                uuid.uuid4(),
                NotificationKind.APPLICANT_STATUS.value,
                str(channel),
                recipient,
                user_id,
                app_id,
                f"{name}:{source}>{target}",
                "申领进度通知",
                content["text"],
                content["template_id"],
                content["data"],
                DeliveryStatus.PENDING.value,
                0,
                now,
                "",
                "",
                now,
            )
        )
    return rows


def _applications_of(ids):
    """(id, queue_number, notify_opt_in, mobile, union_id, campaign_id, member's user_id) of
    the given applications, in id order. An id array, not an IN list of 100,000 parameters."""
    table, members = Application._meta.db_table, Member._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            where, params = "a.id = ANY(%s)", [ids]
        else:
            where, params = f"a.id IN ({', '.join(['%s'] * len(ids))})", ids
        cur.execute(
            f"""SELECT a.id, a.queue_number, a.notify_opt_in, a.mobile, a.union_id,
                       a.campaign_id, m.user_id
                FROM {table} a LEFT JOIN {members} m ON m.id = a.member_id
                WHERE {where} ORDER BY a.id""",
            params,
        )
        return cur.fetchall()
