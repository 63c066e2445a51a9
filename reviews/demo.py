"""Demo applications in every review state for the demo reviewers (`seed_demo` step).

Members 13900000010 onwards of 越秀区示范单位工会 (created by unions.demo) apply in the
current campaign; each application is walked through the real transitions (so the audit
trail and the history on the detail page are real) up to its demo state. Idempotent: members
who already applied in the campaign are left alone."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from subsidy.models import Application, ApplicationStatus, Campaign
from unions.models import Member, ReviewerProfile

S = ApplicationStatus
UNION_NAME = "越秀区示范单位工会"
FIRST_MOBILE = 13900000010
# (status reached, transitions from pending_chsi, reason, worker group)
PLAN = [
    (S.PENDING_GRASSROOTS, [], "", "manufacturing"),
    (S.PENDING_GRASSROOTS, [], "", "none"),
    (S.PENDING_GRASSROOTS, [], "", "new_employment"),
    (S.PENDING_GRASSROOTS, [], "", "none"),
    (S.PENDING_DISTRICT, ["grassroots_approve"], "", "new_generation"),
    (S.PENDING_DISTRICT, ["grassroots_approve"], "", "none"),
    (S.PENDING_CITY, ["grassroots_approve", "district_approve"], "", "model_worker"),
    (S.PENDING_CITY, ["grassroots_approve", "district_approve"], "", "none"),
    (S.GRASSROOTS_REJECTED, ["grassroots_reject"], "经核实，申领人已于 2024 年 6 月离职，非本单位在职职工", "none"),
    (S.DISTRICT_REJECTED, ["grassroots_approve", "district_reject"], "所学专业与单位工作岗位及发展方向不符", "none"),
    (S.CITY_REJECTED, ["grassroots_approve", "district_approve", "city_reject"], "入学时间不在本批次补助范围内", "none"),
    (S.APPROVED, ["grassroots_approve", "district_approve", "city_approve"], "", "manufacturing"),
]  # fmt: skip
LEVEL_OF = {"grassroots": 0, "district": 1, "city": 2}
REGISTRY = [
    ("广东开放大学", "机械设计制造及其自动化"),
    ("华南理工大学", "电气工程及其自动化"),
    ("广州城市理工学院", "物流管理"),
    ("广东工业大学", "计算机科学与技术"),
]


def _actors():
    User = get_user_model()
    grassroots = ReviewerProfile.objects.filter(phone="13800000001").select_related("user").first()
    district = (
        ReviewerProfile.objects.filter(email__iexact="yuexiu@demo.gz")
        .select_related("user")
        .first()
        or ReviewerProfile.objects.filter(user__email__iexact="yuexiu@demo.gz").first()
    )
    city = User.objects.filter(username="city").first()
    return [
        grassroots.user if grassroots else None,
        district.user if district else None,
        city,
    ]


def seed(stdout=None):
    def say(msg):
        if stdout is not None:
            stdout.write(msg)

    campaign = Campaign.current()
    members = list(
        Member.objects.filter(union__name=UNION_NAME, mobile__gte=str(FIRST_MOBILE))
        .select_related("union")
        .order_by("mobile")[: len(PLAN)]
    )
    if campaign is None or not members:
        say("reviews.demo: 没有批次或示范单位会员，跳过")
        return
    actors = _actors()
    created = 0
    for i, (member, (target, steps, reason, group)) in enumerate(zip(members, PLAN, strict=False)):
        if Application.objects.filter(campaign=campaign, member=member).exists():
            continue
        with transaction.atomic():
            Campaign.objects.filter(pk=campaign.pk).update(
                last_queue_number=F("last_queue_number") + 1,
                applicant_count=F("applicant_count") + 1,
            )
            campaign.refresh_from_db(fields=["last_queue_number"])
            institution, major = REGISTRY[i % len(REGISTRY)]
            app = Application.objects.create(
                campaign=campaign,
                member=member,
                union=member.union,
                name=member.name,
                id_number=member.id_number,
                mobile=member.mobile,
                kind="enrollment" if i % 3 else "self_study",
                study_number=f"2024{member.mobile[-6:]}{i:02d}",
                worker_group=group,
                hukou="agricultural" if i % 2 else "non_agricultural",
                job_position=["机修工", "仓储物流专员", "配电运维员", "软件测试员"][i % 4],
                bank_account=f"6222021001{member.mobile[-9:]}",
                bank_branch="中国工商银行广州越秀支行",
                bin_unknown=(i == 5),
                union_contact_phone="020-83000000",
                queue_number=campaign.last_queue_number,
                registry_outcome="pass",
                registry_record={"institution": institution, "major": major, "level": "本科"},
            )
            app.registry_pass(by=None)
            app.save()
            for step in steps:
                level = step.split("_")[0]
                getattr(app, step)(
                    by=actors[LEVEL_OF[level]], reason=reason if "reject" in step else ""
                )
                app.save()
            assert app.status == target
            created += 1
    say(f"reviews.demo: 新建 {created} 条演示申领（各审核状态）")
