"""Demo data: the 2024 campaign (from the fixture), a campaign open now, the commitment
letter, the FAQ of attachment 5 and the card BIN table. Idempotent."""

import json
from datetime import datetime, time, timedelta
from pathlib import Path

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from subsidy.models import FAQ, BankBin, Campaign, CommitmentLetter

FIXTURES = Path(__file__).resolve().parent / "fixtures"

COMMITMENT_TEXT = (
    "本人自愿申领广州市总工会职工学历教育补助，并郑重承诺：\n"
    "一、本人为所填报工会所属单位的在职职工，且为粤工惠平台实名注册的工会会员；\n"
    "二、本人所填报的身份信息、学籍学号或毕业证书编号、银行账号等信息真实、准确、完整；\n"
    "三、本人此前未享受过广州市总工会发放的学历教育补助；\n"
    "四、如有虚报、冒领，本人愿意退回补助并承担相应责任。"
)

FAQS = [
    (
        "可以申请学历教育补助的对象有哪些？",
        "2023 年 9 月 1 日至 2024 年 8 月 24 日期间入读大专、本科学历教育学习并在“中国高等教育学生"
        "信息网”(www.chsi.com.cn, 简称“学信网”)上取得学籍，完成入读缴费的职工。\n"
        "通过高等教育自学考试在 2023 年 9 月 1 日至 2024 年 8 月 24 日期间（以毕业证书编号核查信息"
        "为准）获得高等教育大专、本科毕业证书的职工。",
    ),
    (
        "申领时需要提交什么资料？",
        "新入读职工（成人高等教育在职学历提升报读）填写学信网学籍状态学号；自考毕业职工（高等教育"
        "自学考试毕业）填写学历毕业证书编号。两类申领人均需选择所属职工群体选项（新生代产业工人 / "
        "新就业形态劳动者 / 制造业一线职工 / 市以上劳模和五一劳动奖章获得者，如无所属群体选项选择"
        "“无”）、户籍选项（农业户口 / 非农业户口）、填写工作岗位、填写银行账号、开户行（仅限本人"
        "中国工商银行）、填写开户支行（不按要求填写者后果自负）、上传银行卡图片、填写所属工会联系人"
        "电话号码。",
    ),
    (
        "如果提交资料后，发现提交内容有误，可以修改吗？",
        "资料提交后，无法撤回，请各位在提交资料前仔细检查。如需修改，需要联络所属基层工会审核员"
        "进行驳回。申请人可在个人申报通道关闭之前重新提交申请。",
    ),
    (
        "如果申领被驳回后，重新提交，审核顺序以最初提交申领的时间为准吗？",
        "不是，审核顺序按照驳回后重新提交的时间为准。",
    ),
    (
        "如果我单位工会相关负责人表示没有权限审核我的入会申请，导致我无法参与补助申领，应该怎么办？",
        "单位工会相关负责人可联系上级工会或地级市工会，让他们到粤工惠后台使用管理员权限给本单位"
        "工会的审核员加为管理员。",
    ),
    (
        "我在申请教育补助时，申领页面提示已于XXXX年申领补助，怎么处理？",
        "不能重复申领。申领职工实名信息已进行后台比对反馈，请以系统核查结果为准。",
    ),
    (
        "补助是怎么发放的？",
        "广州市总工会将获得本次学历教育补助的名单在广州市总工会官方网站公示5天，公示结束后，广州市"
        "总工会将补助（1500元/人）直接发放到职工申领所填写的银行账号上。",
    ),
]


def campaign_2024_values() -> dict:
    raw = json.loads((FIXTURES / "campaign_2024.json").read_text(encoding="utf-8"))[0]["fields"]
    values = {}
    for key, value in raw.items():
        if key in ("eligible_from", "eligible_until"):
            values[key] = parse_date(value)
        elif key.endswith("_at") or key.endswith("_until") or key == "membership_deadline":
            values[key] = parse_datetime(value)
        else:
            values[key] = value
    return values


def _end_of_day(moment):
    local = timezone.localtime(moment)
    return timezone.make_aware(datetime.combine(local.date(), time(23, 59, 59)))


def current_campaign_values(now) -> dict:
    """A campaign whose windows surround `now`: intake opened two days ago (the membership
    deadline with it, as in the notice), closes in five days; each review level's window
    runs past the close, the way 2024's did."""
    opens = timezone.localtime(now - timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    closes = opens + timedelta(days=7)
    base = campaign_2024_values()
    return {
        "title": f"{timezone.localdate(now).year} 年广州市职工学历教育补助（演示）",
        "eligible_from": timezone.localdate(now) - timedelta(days=365),
        "eligible_until": timezone.localtime(closes).date(),
        "membership_deadline": opens,
        "opens_at": opens,
        "closes_at": closes,
        "grassroots_review_until": _end_of_day(closes + timedelta(days=2)),
        "district_review_until": _end_of_day(closes + timedelta(days=8)),
        "city_review_until": _end_of_day(closes + timedelta(days=13)),
        "quota": base["quota"],
        "application_cap": base["application_cap"],
        "amount_cny": base["amount_cny"],
        "publication_days": base["publication_days"],
        "registry_sla_hours": base["registry_sla_hours"],
        "general_hotline": base["general_hotline"],
        "general_hotline_name": base["general_hotline_name"],
    }


def seed(stdout=None):
    now = timezone.now()
    with transaction.atomic():
        values_2024 = campaign_2024_values()
        Campaign.objects.update_or_create(year=values_2024.pop("year"), defaults=values_2024)
        year = timezone.localdate(now).year
        demo = Campaign.objects.filter(year=year).first()
        if year != 2024 and (demo is None or not demo.window_open(now)):
            # (re)open the demo campaign around now; counters and applications stay
            Campaign.objects.update_or_create(year=year, defaults=current_campaign_values(now))
        if not CommitmentLetter.objects.exists():
            CommitmentLetter.objects.create(version=1, title="承诺书", text=COMMITMENT_TEXT)
        for position, (question, answer) in enumerate(FAQS, start=1):
            FAQ.objects.update_or_create(
                question=question, defaults={"answer": answer, "position": position}
            )
        if not BankBin.objects.exists():
            call_command("loaddata", "bank_bins", verbosity=0)
    if stdout is not None:
        stdout.write(
            f"subsidy: {Campaign.objects.count()} 个批次（当前：{Campaign.current()}），"
            f"{FAQ.objects.count()} 条问答，{BankBin.objects.count()} 条卡BIN"
        )
