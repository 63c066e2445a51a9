"""Every SMS the system sends, as the template it is registered under at the provider.

To add one: append an `Entry` to ENTRIES (a key, a Chinese name, the kind, the default text
with `${name}` variables, and the parameters the code passes), then send it with
`sms.sending.send(phone, "<key>", name=value, ...)`. `migrate` creates its `SmsTemplate` row
with the default text; staff register that text at the provider and enter the template code
it assigns in the admin (短信 → 短信模板). Until then the console and file backends print it
and the provider backend refuses it (permanent: nothing is sent without a registered code).

The provider's rules, held by `check_text` and `sms.sending.build` (Aliyun's, the strictest
of the big Chinese gateways): a verification-code template has exactly one variable of 4–6
letters or digits; a notification variable takes 1–35 characters (longer values are cut
with "…"); the text carries no 【】 (the gateway adds the signature) and the whole message,
signature included, stays within 500 characters.
"""

import re
from dataclasses import dataclass

VERIFICATION = "verification"
NOTIFICATION = "notification"
KIND_LABELS = {VERIFICATION: "验证码", NOTIFICATION: "短信通知"}

VARIABLE = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]{0,29})\}")
MAX_VARIABLE = 35  # characters of one notification variable's value
MAX_MESSAGE = 500  # characters of the whole message, signature included
CODE_VALUE = re.compile(r"[A-Za-z0-9]{4,6}")


@dataclass(frozen=True)
class Entry:
    key: str
    name: str
    kind: str
    text: str
    params: tuple[str, ...]
    sample: dict  # example values: the admin's preview and the catalogue's own test


ENTRIES = [
    Entry(
        "login_code",
        "登录验证码",
        VERIFICATION,
        "您的登录验证码为 ${code}，5 分钟内有效。如非本人操作，请忽略本短信。",
        ("code",),
        {"code": "123456"},
    ),
    Entry(
        "grassroots_new",
        "基层工会待审核提醒",
        NOTIFICATION,
        "${union}有新的职工学历教育补助申领待审核（排队号${queue}），请于${deadline}前登录审核。",
        ("union", "queue", "deadline"),
        {"union": "越秀区示范单位工会", "queue": "1024", "deadline": "05月20日18:00"},
    ),
    Entry(
        "applicant_received",
        "申领已提交",
        NOTIFICATION,
        "您的学历教育补助申领已提交（排队号${queue}），正在校核学历信息，结果将另行通知。"
        "咨询电话：${hotline}。",
        ("queue", "hotline"),
        {"queue": "1024", "hotline": "越秀区总工会 87370160"},
    ),
    Entry(
        "applicant_status",
        "申领进度通知",
        NOTIFICATION,
        "您的学历教育补助申领（排队号${queue}）状态更新为：${status}。下一步：${next_step}"
        "咨询电话：${hotline}。",
        ("queue", "status", "next_step", "hotline"),
        {
            "queue": "1024",
            "status": "待区总工会审核",
            "next_step": "正在等待区总工会审核。",
            "hotline": "越秀区总工会 87370160",
        },
    ),
    Entry(
        "applicant_status_reason",
        "申领进度通知（含原因）",
        NOTIFICATION,
        "您的学历教育补助申领（排队号${queue}）状态更新为：${status}。原因：${reason}。"
        "下一步：${next_step}咨询电话：${hotline}。",
        ("queue", "status", "reason", "next_step", "hotline"),
        {
            "queue": "1024",
            "status": "基层工会审核不通过",
            "reason": "所学专业与工作岗位不相关",
            "next_step": "请按不通过原因修改后重新提交。",
            "hotline": "越秀区总工会 87370160",
        },
    ),
    Entry(
        "staff_digest",
        "每日工作提醒",
        NOTIFICATION,
        "${campaign}每日提醒：逾期未审核：${overdue}；学历校核超过${sla_hours}小时未出结果："
        "${sla_breached}件；发放失败：${payment_failed}件；通知发送失败或待核实：${undelivered}条。",
        ("campaign", "overdue", "sla_hours", "sla_breached", "payment_failed", "undelivered"),
        {
            "campaign": "2024年求学圆梦行动",
            "overdue": "基层工会3件",
            "sla_hours": "24",
            "sla_breached": "0",
            "payment_failed": "0",
            "undelivered": "1",
        },
    ),
]

CATALOGUE = {e.key: e for e in ENTRIES}


def get(key: str) -> Entry:
    try:
        return CATALOGUE[key]
    except KeyError:
        raise LookupError(f"no SMS template {key!r} in sms.catalogue") from None


def variables(text: str) -> list[str]:
    return VARIABLE.findall(text)


def check_text(entry: Entry, text: str, sign_name: str) -> list[str]:
    """What is wrong with a template text for this entry (Chinese, for the admin); [] if
    nothing. The text must use exactly the entry's parameters, each once."""
    problems = []
    found = variables(text)
    missing = [p for p in entry.params if p not in found]
    unknown = sorted(set(found) - set(entry.params))
    if missing:
        problems.append("模板缺少变量：" + "、".join(f"${{{p}}}" for p in missing))
    if unknown:
        problems.append(
            "模板含有系统不提供的变量："
            + "、".join(f"${{{p}}}" for p in unknown)
            + "（可用："
            + "、".join(f"${{{p}}}" for p in entry.params)
            + "）"
        )
    if len(found) != len(set(found)):
        problems.append("同一变量只能出现一次")
    if "$" in VARIABLE.sub("", text) or "{" in VARIABLE.sub("", text):
        problems.append("变量格式应为 ${名称}（字母开头，字母、数字或下划线）")
    if any(ch in text for ch in "【】[]"):
        problems.append("模板内容不能含有【】或方括号（签名由短信平台添加）")
    if entry.kind == VERIFICATION and len(found) != 1:
        problems.append("验证码模板只能有一个变量")
    longest = len(VARIABLE.sub("", text)) + MAX_VARIABLE * len(found) + len(sign_name) + 2
    if longest > MAX_MESSAGE:
        problems.append(f"短信连同签名最长可能超过 {MAX_MESSAGE} 字，请精简模板内容")
    return problems


def check_sign_name(sign_name: str) -> list[str]:
    """A signature (签名) is 2–12 characters, without brackets."""
    if not 2 <= len(sign_name) <= 12:
        return ["短信签名应为 2–12 个字"]
    if any(ch in sign_name for ch in "【】[]"):
        return ["短信签名不含【】，短信平台发送时自动添加"]
    return []
