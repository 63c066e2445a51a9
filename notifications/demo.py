"""Demo data for notifications and statistics (idempotent): the periodic jobs, the district
hotlines of 附件1 where a district has none yet, and a few inquiry-register entries."""

from notifications.models import Inquiry, InquiryCategory, InquiryStatus
from notifications.services.schedule import ensure_periodic_tasks
from unions.models import Union

HOTLINES = {
    "越秀区总工会": "87370160",
    "海珠区总工会": "89088752",
    "荔湾区总工会": "81901130",
    "天河区总工会": "89284381;85530518",
    "白云区总工会": "31237136",
    "黄埔区总工会": "82112250",
    "花都区总工会": "86821244",
    "番禺区总工会": "84823241",
    "南沙区总工会": "31054164",
    "从化区总工会": "37902077",
    "增城区总工会": "82753951",
}

INQUIRIES = [
    (
        "陈*华",
        "13900000011",
        InquiryCategory.CONSULTATION,
        "自考毕业证书编号查询不到怎么办？",
        "已指导其核对证书编号中的空格和大小写后重新提交。",
        InquiryStatus.ANSWERED,
    ),
    (
        "李*",
        "13900000012",
        InquiryCategory.SUGGESTION,
        "建议申领时间延长到周末。",
        "",
        InquiryStatus.OPEN,
    ),
    (
        "黄*明",
        "13900000013",
        InquiryCategory.APPEAL,
        "基层工会审核不通过，原因不清楚。",
        "已联系基层工会补充说明不通过原因。",
        InquiryStatus.CLOSED,
    ),
]


def seed(stdout=None):
    created = ensure_periodic_tasks()
    for name, phone in HOTLINES.items():
        Union.objects.filter(name=name, hotline="").update(hotline=phone)
    union = (
        Union.objects.filter(name="越秀区示范单位工会").first()
        or Union.objects.filter(level="grassroots").first()
    )
    n = 0
    if union is not None:
        for name, phone, category, text, answer, status in INQUIRIES:
            _, made = Inquiry.objects.get_or_create(
                union=union,
                name=name,
                text=text,
                defaults={"phone": phone, "category": category, "answer": answer, "status": status},
            )
            n += made
    if stdout is not None:
        stdout.write(f"notifications: {len(created)} periodic jobs, {n} inquiries created")
