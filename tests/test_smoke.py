"""The skeleton stands: the home page renders in Chinese, a transition is audited."""

import io
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from reviews.models import AuditRecord
from subsidy.models import ApplicationStatus
from tests.factories import ApplicationFactory


@pytest.mark.django_db
def test_home_page_has_chinese_title(client, campaign):
    response = client.get("/")
    assert response.status_code == 200
    assert "求学圆梦" in response.content.decode()
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_registry_pass_appends_one_audit_record(campaign, member):
    app = ApplicationFactory(
        campaign=campaign, member=member, status=ApplicationStatus.PENDING_CHSI
    )
    app.registry_pass(by=None, reason="")
    app.save()
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PENDING_GRASSROOTS
    record = AuditRecord.objects.get(application=app)
    assert (record.from_status, record.to_status) == ("pending_chsi", "pending_grassroots")
    assert len(record.hash) == 64


# --- the demo data ---------------------------------------------------------------------------


@pytest.fixture
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
def test_seed_demo_builds_the_guangzhou_demo_and_is_idempotent(fast_hashing):
    from django.contrib.auth import authenticate
    from django.core.management import call_command

    from subsidy.models import Campaign
    from unions.models import Member, MembershipStatus, ReviewerLevel, Union, UnionLevel
    from unions.validators import clean_id_number

    call_command("seed_demo", stdout=io.StringIO())
    counts = (Union.objects.count(), Member.objects.count(), Campaign.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Union.objects.count(), Member.objects.count(), Campaign.objects.count()) == counts

    districts = Union.objects.filter(level=UnionLevel.DISTRICT)
    assert districts.count() == 11
    assert districts.get(name="天河区总工会").hotline == "89284381;85530518"
    assert districts.get(name="黄埔区总工会（广州开发区总工会）").hotline == "82112250"
    assert Union.objects.filter(level=UnionLevel.INDUSTRY).count() >= 2
    assert 35 <= Union.objects.filter(level=UnionLevel.GRASSROOTS).count() <= 50
    assert Union.objects.filter(registered=False).exists()
    assert Union.objects.filter(dues_paid=False).exists()

    assert Member.objects.count() == 300
    for member in Member.objects.all():
        assert clean_id_number(member.id_number) == member.id_number

    campaign = Campaign.current()
    assert campaign.year == timezone.localdate().year
    assert campaign.intake_open()
    assert campaign.review_levels_open() == list(ReviewerLevel.values)
    assert Campaign.objects.filter(year=2024).exists()

    first = Member.objects.get(mobile="13900000001")
    assert first.union.name == "越秀区示范单位工会" and first.union.is_eligible
    assert first.is_active_member(deadline=campaign.membership_deadline)
    late = Member.objects.filter(status=MembershipStatus.ACTIVE).exclude(
        active_since__lte=campaign.membership_deadline
    )
    assert late.exists(), "some members joined after the membership deadline"
    assert Member.objects.filter(status=MembershipStatus.PENDING).exists()

    city = authenticate(username="city", password="demo-city-2024")
    assert city is not None and city.is_superuser and city.reviewer.level == ReviewerLevel.CITY
    yuexiu = authenticate(username="yuexiu@demo.gz", password="demo-district-2024")
    assert [u.name for u in yuexiu.reviewer.managed_unions.all()] == ["越秀区总工会"]
    assert authenticate(username="tianhe@demo.gz", password="demo-district-2024") is not None
    from unions.models import ReviewerProfile

    grassroots = ReviewerProfile.objects.get(phone="13800000001")
    assert grassroots.level == ReviewerLevel.GRASSROOTS
    assert [u.name for u in grassroots.managed_unions.all()] == ["越秀区示范单位工会"]


def test_seed_demo_skips_missing_seeder_modules_but_not_broken_ones():
    from subsidy.management.commands.seed_demo import load_seeder

    assert load_seeder("no_such_app.demo.seed") is None
    assert load_seeder("subsidy.no_such_demo.seed") is None
    assert load_seeder("unions.demo.seed") is not None
    with pytest.raises(AttributeError):
        load_seeder("unions.demo.no_such_function")


# --- settings switches ------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def _run(args, env, timeout=120):
    drop = ("DATABASE_URL", "CI", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    base.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=timeout
    )


def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    from cryptography.fernet import Fernet

    env = {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "PII_FERNET_KEYS": Fernet.generate_key().decode(),
        "PII_HMAC_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "subsidy.example.org",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
    }
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "PII_FERNET_KEYS", "PII_HMAC_KEY"])
def test_production_refuses_to_start_with_development_keys(tmp_path, missing):
    from cryptography.fernet import Fernet

    env = {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "PII_FERNET_KEYS": Fernet.generate_key().decode(),
        "PII_HMAC_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "subsidy.example.org",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
    }
    env[missing] = ""
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert f"{missing} must be set in production" in result.stderr


def test_ci_refuses_to_run_the_suite_on_sqlite(tmp_path):
    result = _run(
        ["-m", "pytest", "--collect-only", "-q", "-p", "no:xdist", "tests/test_smoke.py"],
        {"CI": "true", "SQLITE_PATH": str(tmp_path / "db.sqlite3")},
    )
    assert result.returncode != 0
    assert "CI must run the tests against PostgreSQL" in result.stdout + result.stderr
