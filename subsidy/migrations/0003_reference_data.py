"""Initial reference data: the card BIN table, the FAQ and the commitment letter v1.

BIN rows: hexindai/bcbc `data/bin.csv` + `data/name.csv` (MIT licence, Copyright (c)
2018-2020 Runrioter), copied to `subsidy/fixtures/` with the licence text in its README.
FAQ: attachment 5 (学历教育补助一问一答) of the 2024 notice, word for word.
Rows are only added when the tables are empty, so staff edits are never overwritten.
"""

import csv
from pathlib import Path

from django.db import migrations

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

_MATERIALS = (
    "新入读职工（成人高等教育在职学历提升报读）：填写学信网学籍状态学号、选择所属职工群体选项"
    "（新生代产业工人 / 新就业形态劳动者 / 制造业一线职工 / 市以上劳模和五一劳动奖章获得者，"
    "如无所属群体选项选择“无”）、户籍选项（农业户口 / 非农业户口）、填写工作岗位、填写银行账号、"
    "开户行（仅限本人中国工商银行）、填写开户支行（不按要求填写者后果自负）、上传银行卡图片、"
    "填写所属工会联系人电话号码。\n"
    "自考毕业职工（高等教育自学考试毕业）：填写学历毕业证书编号、选择所属职工群体选项"
    "（新生代产业工人 / 新就业形态劳动者 / 制造业一线职工 / 市以上劳模和五一劳动奖章获得者，"
    "如无所属群体选项选择“无”）、户籍选项（农业户口 / 非农业户口）、填写工作岗位、填写银行账号、"
    "开户行（仅限本人中国工商银行）、填写开户支行（不按要求填写者后果自负）、上传银行卡图片、"
    "填写所属工会联系人电话号码。"
)

FAQS = [
    (
        "可以申请学历教育补助的对象有哪些？",
        "2023 年 9 月 1 日至 2024 年 8 月 24 日期间入读大专、本科学历教育学习并在“中国高等教育学生"
        "信息网”(www.chsi.com.cn, 简称“学信网”)上取得学籍，完成入读缴费的职工。\n"
        "通过高等教育自学考试在 2023 年 9 月 1 日至 2024 年 8 月 24 日期间（以毕业证书编号核查信息"
        "为准）获得高等教育大专、本科毕业证书的职工。",
    ),
    ("申领时需要提交什么资料？", _MATERIALS),
    (
        "如果提交资料后，发现提交内容有误，可以修改吗？",
        "资料提交后，无法撤回，请各位在提交资料前仔细检查。如需修改，需要联络所属基层工会审核员进行"
        "驳回。申请人可在个人申报通道关闭之前重新提交申请。",
    ),
    (
        "如果申领被驳回后，重新提交，审核顺序以最初提交申领的时间为准吗？",
        "不是，审核顺序按照驳回后重新提交的时间为准。",
    ),
    (
        "如果我单位工会相关负责人表示没有权限审核我的入会申请，导致我无法参与补助申领，应该怎么办？",
        "单位工会相关负责人可联系上级工会或地级市工会，让他们到粤工惠后台使用管理员权限给本单位工会"
        "的审核员加为管理员。",
    ),
    (
        "我在申请教育补助时，申领页面提示已于XXXX年申领补助，怎么处理？",
        "不能重复申领。申领职工实名信息已进行后台比对反馈，请以系统核查结果为准。",
    ),
    (
        "补助是怎么发放的？",
        "广州市总工会将获得本次学历教育补助的名单在广州市总工会官方网站公示5天，公示结束后，"
        "广州市总工会将补助（1500元/人）直接发放到职工申领所填写的银行账号上。",
    ),
]

# The notice names the 承诺书 (五(三)) without printing it; this text restates the notice's own
# conditions and rules as the applicant's promises.
COMMITMENT_V1 = """本人自愿申领广州市总工会职工学历教育补助，并郑重承诺：
一、本人是在广州市建立了工会组织并已按规定缴交工会经费的单位的在职职工，是粤工惠平台实名注册的工会会员。
二、本人所填报的身份信息、工会信息、学籍学号或毕业证书编号、银行账号等资料真实、准确、完整，银行账户为本人名下的中国工商银行借记卡账户；因填写错误导致审核不通过或补助无法发放的，后果由本人承担。
三、本人同意广州市总工会及各级工会通过教育部学籍学历数据核验本人学历信息，并在申领、审核、公示和发放工作范围内使用本人信息。
四、本人知悉每名职工只可享受一次广州市总工会发放的学历教育补助，未曾领取过该补助。
五、本人知悉资料提交后无法撤回和修改；如有虚报、冒领等情形，自愿退回所领补助并承担相应责任。"""


def load(apps, schema_editor):
    BankBin = apps.get_model("subsidy", "BankBin")
    FAQ = apps.get_model("subsidy", "FAQ")
    CommitmentLetter = apps.get_model("subsidy", "CommitmentLetter")
    if not BankBin.objects.exists():
        with open(FIXTURES / "cn-bank-names.csv", encoding="utf-8") as f:
            names = {row["bank"]: row["name"] for row in csv.DictReader(f)}
        rows, seen = [], set()
        with open(FIXTURES / "cn-bank-bins.csv", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                key = (row["bin"], int(row["length"]), row["bank"], row["type"])
                if key in seen:
                    continue
                seen.add(key)
                rows.append(
                    BankBin(
                        bin=row["bin"],
                        bank=row["bank"],
                        bank_name=names.get(row["bank"], ""),
                        card_type=row["type"],
                        length=int(row["length"]),
                    )
                )
        BankBin.objects.bulk_create(rows, batch_size=500)
    if not FAQ.objects.exists():
        FAQ.objects.bulk_create(
            FAQ(position=i, question=q, answer=a) for i, (q, a) in enumerate(FAQS, start=1)
        )
    if not CommitmentLetter.objects.filter(version=1).exists():
        CommitmentLetter.objects.create(version=1, title="承诺书", text=COMMITMENT_V1, active=True)


class Migration(migrations.Migration):
    dependencies = [("subsidy", "0002_one_time_code")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
