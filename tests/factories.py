"""factory_boy factories for the whole suite. Every ID number they make has a valid checksum."""

import itertools
from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone
from stdnum.cn import ric

from subsidy.models import Application, ApplicationStatus, Campaign, CommitmentLetter
from unions.models import Member, MembershipStatus, ReviewerLevel, ReviewerProfile, Union

# Numbers the factories draw for themselves start at SEQUENCE_START; a test that needs a
# number "different from the factory's" passes an explicit n below it (make_id_number(987),
# make_mobile(42)), which can then never equal a drawn one, whatever order the tests run in.
# (The drawn ID numbers' birth dates fall after 2000-08, beyond the demo data's 1985–1998, and
# the drawn mobiles are 13902xxxxxx, beyond the demo's and the tests' fixed 13900xxxxxx.)
SEQUENCE_START = 2_000_000
_seq = itertools.count(SEQUENCE_START + 1)


def _number(n: int | None) -> int:
    if n is None:
        return next(_seq)
    if not 0 <= n < SEQUENCE_START:
        raise ValueError(f"explicit numbers must lie below {SEQUENCE_START}: {n}")
    return n


def make_id_number(n: int | None = None, region="440106", birth=date(1995, 3, 7)) -> str:
    n = _number(n)
    # vary the birth date so more than 1000 distinct numbers exist
    body = f"{region}{(birth + timedelta(days=n // 1000)):%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # the argument includes a check digit


def make_mobile(n: int | None = None) -> str:
    n = _number(n)
    return f"139{n:08d}"[:11]


class UnionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Union
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"测试基层工会{n}")
    level = "grassroots"
    registered = True
    dues_paid = True
    contact_phone = "020-83000000"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    name = factory.Sequence(lambda n: f"会员{n}")
    id_number = factory.LazyFunction(make_id_number)
    mobile = factory.LazyFunction(make_mobile)
    union = factory.SubFactory(UnionFactory)
    status = MembershipStatus.ACTIVE
    active_since = factory.LazyFunction(lambda: timezone.now() - timedelta(days=365))
    user = factory.SubFactory(UserFactory, username=factory.SelfAttribute("..mobile"))


class ReviewerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewerProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"审核员{n}")
    phone = factory.LazyFunction(lambda: make_mobile())
    level = ReviewerLevel.GRASSROOTS
    can_review = True

    @factory.post_generation
    def unions(self, create, extracted, **kwargs):
        if create and extracted:
            self.managed_unions.set(extracted)


class CampaignFactory(factory.django.DjangoModelFactory):
    """An open campaign whose windows surround now."""

    class Meta:
        model = Campaign
        django_get_or_create = ("year",)

    year = factory.LazyFunction(lambda: timezone.localdate().year)
    title = factory.LazyAttribute(lambda o: f"{o.year} 年广州市职工学历教育补助")
    eligible_from = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=300))
    eligible_until = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    membership_deadline = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=4))
    grassroots_review_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=6))
    district_review_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=12))
    city_review_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=18))
    quota = 4126
    application_cap = 6000
    amount_cny = "1500.00"
    publication_days = 5
    registry_sla_hours = 2
    general_hotline = "85571310;85524304"


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommitmentLetter
        django_get_or_create = ("version",)

    version = 1
    text = "本人承诺所填信息真实、准确、完整。"


class ApplicationFactory(factory.django.DjangoModelFactory):
    """An application in any status; queue numbers come from the campaign's counter."""

    class Meta:
        model = Application

    campaign = factory.SubFactory(CampaignFactory)
    member = factory.SubFactory(MemberFactory)
    union = factory.LazyAttribute(lambda o: o.member.union)
    name = factory.LazyAttribute(lambda o: o.member.name)
    id_number = factory.LazyAttribute(lambda o: o.member.id_number)
    mobile = factory.LazyAttribute(lambda o: o.member.mobile)
    kind = "enrollment"
    study_number = factory.Sequence(lambda n: f"2024{n:08d}")
    worker_group = "none"
    hukou = "non_agricultural"
    job_position = "机修工"
    bank_account = "6222021001115227281"
    bank_branch = "广州天河支行"
    union_contact_phone = "020-83000000"
    status = ApplicationStatus.PENDING_GRASSROOTS
    queue_number = factory.LazyAttribute(lambda o: _next_queue(o.campaign))


def _next_queue(campaign) -> int:
    Campaign.objects.filter(pk=campaign.pk).update(last_queue_number=F("last_queue_number") + 1)
    campaign.refresh_from_db(fields=["last_queue_number"])
    return campaign.last_queue_number
