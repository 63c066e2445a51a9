"""Demo data: the Guangzhou union tree, ~300 members and reviewer accounts at every level.

Idempotent: every object is looked up by its natural key (union name, mobile, username)
and only created or corrected. The demo logins are listed in README.md.
"""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric

from unions.models import (
    JoinRequest,
    Member,
    MembershipEvent,
    MembershipStatus,
    RequestStatus,
    ReviewerLevel,
    ReviewerProfile,
    Union,
    UnionLevel,
)

CITY = "广州市总工会"
CITY_PASSWORD = "demo-city-2024"
DISTRICT_PASSWORD = "demo-district-2024"
GRASSROOTS_PASSWORD = "demo-grassroots-2024"
DEMO_GRASSROOTS = "越秀区示范单位工会"

# Attachment 1 of the 2024 notice (also ../shared/data/district-hotlines.csv): name, hotline,
# login prefix (pinyin), ID-number region code, and two grassroots unions per district.
DISTRICTS = [
    ("越秀区总工会", "87370160", "yuexiu", "440104"),
    ("海珠区总工会", "89088752", "haizhu", "440105"),
    ("荔湾区总工会", "81901130", "liwan", "440103"),
    ("天河区总工会", "89284381;85530518", "tianhe", "440106"),
    ("白云区总工会", "31237136", "baiyun", "440111"),
    ("黄埔区总工会（广州开发区总工会）", "82112250", "huangpu", "440112"),
    ("花都区总工会", "86821244", "huadu", "440114"),
    ("番禺区总工会", "84823241", "panyu", "440113"),
    ("南沙区总工会", "31054164", "nansha", "440115"),
    ("从化区总工会", "37902077", "conghua", "440117"),
    ("增城区总工会", "82753951", "zengcheng", "440118"),
]
INDUSTRIES = [
    ("广州市交通运输工会", "jiaotong"),
    ("广州市教育工会", "jiaoyu"),
    ("广州市金融工会", "jinrong"),
]
GRASSROOTS_KINDS = ["机械制造有限公司工会", "物流服务有限公司工会", "电子科技有限公司工会"]
# Unions that let the entry check refuse: not registered on the platform, dues unpaid.
NOT_REGISTERED = "白云区未注册单位工会"
DUES_UNPAID = "海珠区欠缴经费单位工会"

SURNAMES = "陈李黄张梁林刘吴罗何郑杨谭周朱冯钟曾邓许"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌玲"


def demo_id_number(n: int, region: str) -> str:
    """A valid ID number; a district code that did not exist in the birth year (从化区 and
    增城区 date from 2014) falls back to 越秀区's."""
    birth = date(1985, 1, 1) + timedelta(days=(n * 37) % 5000)
    for code in (region, "440104"):
        body = f"{code}{birth:%Y%m%d}{n % 1000:03d}"
        number = body + ric.calc_check_digit(body + "0")  # the argument includes a check digit
        if ric.is_valid(number):
            return number
    raise ValueError(number)


def demo_name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)] + GIVEN[(n * 3) % len(GIVEN)]


def _union(name, level, parent, **extra):
    union = Union.objects.filter(name=name).first()
    if union is None:
        union = Union(name=name)
    union.level, union.parent = level, parent
    for key, value in extra.items():
        setattr(union, key, value)
    union.save()
    return union


def build_tree():
    city = _union(CITY, UnionLevel.CITY, None, hotline="85571310;85524304")
    grassroots = []
    districts = {}
    for name, hotline, login, region in DISTRICTS:
        d = _union(name, UnionLevel.DISTRICT, city, hotline=hotline, contact_phone=hotline[:8])
        districts[login] = (d, region)
        short = name.split("总工会")[0]
        for kind in GRASSROOTS_KINDS:
            grassroots.append((_union(f"{short}{kind}", UnionLevel.GRASSROOTS, d), region))
    yuexiu = districts["yuexiu"][0]
    demo = _union(DEMO_GRASSROOTS, UnionLevel.GRASSROOTS, yuexiu, contact_phone="020-83001234")
    # grassroots unions may nest: a branch union under the demo union
    branch = _union("越秀区示范单位第一分工会", UnionLevel.GRASSROOTS, demo)
    grassroots.insert(0, (demo, "440104"))
    grassroots.append((branch, "440104"))
    industries = {}
    for name, login in INDUSTRIES:
        ind = _union(name, UnionLevel.INDUSTRY, city, hotline="83000000")
        industries[login] = ind
        for suffix in ("第一基层工会", "第二基层工会"):
            grassroots.append(
                (_union(f"{name[:-2]}{suffix}", UnionLevel.GRASSROOTS, ind), "440100")
            )
    refusals = [
        _union(NOT_REGISTERED, UnionLevel.GRASSROOTS, districts["baiyun"][0], registered=False),
        _union(DUES_UNPAID, UnionLevel.GRASSROOTS, districts["haizhu"][0], dues_paid=False),
    ]
    return city, districts, industries, grassroots, refusals


def build_members(grassroots, refusals, now):
    """Members 13900000001…13900000300. Member 1 is eligible in 越秀区示范单位工会;
    281–285 are in unions the entry check refuses; 286–293 joined recently (after a
    membership deadline set a few days back); 294–300 are still pending approval."""
    User = get_user_model()
    unusable = make_password(None)
    created = 0
    for n in range(1, 301):
        mobile = f"139{n:08d}"
        if n == 1:
            union, region = grassroots[0]
        elif 281 <= n <= 285:
            union, region = refusals[n % 2], "440104"
        else:
            union, region = grassroots[n % len(grassroots)]
        if n >= 294:
            status, since = MembershipStatus.PENDING, None
        elif n >= 286:
            status, since = MembershipStatus.ACTIVE, now - timedelta(hours=2)
        else:
            status, since = MembershipStatus.ACTIVE, now - timedelta(days=400 + n)
        member = Member.objects.filter(mobile=mobile).first()
        if member is not None:
            continue
        user, _ = User.objects.get_or_create(username=mobile, defaults={"password": unusable})
        member = Member.objects.create(
            name=demo_name(n),
            id_number=demo_id_number(n, region),
            mobile=mobile,
            union=union,
            status=status,
            active_since=since,
            user=user,
        )
        if status == MembershipStatus.PENDING:
            JoinRequest.objects.create(member=member, union=union, status=RequestStatus.PENDING)
        else:
            MembershipEvent.objects.create(
                member=member, kind=MembershipEvent.Kind.JOINED, to_union=union, at=since
            )
        created += 1
    # Keep the "joined recently" members recent on every run, so they stay after the demo
    # campaign's membership deadline (subsidy.demo keeps that deadline two days back).
    Member.objects.filter(
        mobile__in=[f"139{n:08d}" for n in range(286, 294)], status=MembershipStatus.ACTIVE
    ).update(active_since=now - timedelta(hours=2))
    return created


def _reviewer(username, password_hash, *, name, level, unions, phone="", email="", staff=False):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"password": password_hash, "email": email}
    )
    if created or staff:
        user.is_staff = user.is_superuser = staff
        user.first_name = name
        user.save()
    profile, _ = ReviewerProfile.objects.update_or_create(
        user=user,
        defaults=dict(
            name=name,
            phone=phone,
            email=email,
            level=level,
            can_review=True,
            can_manage_reviewers=True,
            active=True,
            affiliation=unions[0].name,
        ),
    )
    profile.managed_unions.set(unions)
    return profile


def build_reviewers(city, districts, industries, grassroots):
    city_hash = make_password(CITY_PASSWORD)
    district_hash = make_password(DISTRICT_PASSWORD)
    grassroots_hash = make_password(GRASSROOTS_PASSWORD)
    _reviewer(
        "city", city_hash, name="市总审核员", level=ReviewerLevel.CITY, unions=[city],
        phone="13800000000", email="city@demo.gz", staff=True,
    )  # fmt: skip
    for login, (union, _region) in districts.items():
        _reviewer(
            f"{login}@demo.gz", district_hash, name=f"{union.name[:2]}区审核员",
            level=ReviewerLevel.DISTRICT, unions=[union], email=f"{login}@demo.gz",
        )  # fmt: skip
    for login, union in industries.items():
        _reviewer(
            f"{login}@demo.gz", district_hash, name=f"{union.name[3:5]}工会审核员",
            level=ReviewerLevel.DISTRICT, unions=[union], email=f"{login}@demo.gz",
        )  # fmt: skip
    # Grassroots reviewers sign in by SMS code with their mobile: 13800000001 manages
    # 越秀区示范单位工会, 13800000002… one more union each.
    for i, (union, _region) in enumerate(grassroots[:6], start=1):
        phone = f"138{i:08d}"
        _reviewer(
            phone, grassroots_hash, name=f"基层审核员{i}", level=ReviewerLevel.GRASSROOTS,
            unions=[union], phone=phone,
        )  # fmt: skip


def seed(stdout=None):
    now = timezone.now()
    with transaction.atomic():
        city, districts, industries, grassroots, refusals = build_tree()
        created = build_members(grassroots, refusals, now)
        build_reviewers(city, districts, industries, grassroots)
    if stdout is not None:
        stdout.write(
            f"unions: {Union.objects.count()} 个工会，{Member.objects.count()} 名会员"
            f"（本次新增 {created}），{ReviewerProfile.objects.count()} 个审核员账号"
        )
