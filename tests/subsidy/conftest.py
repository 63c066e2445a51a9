"""Fixtures of the applicant journey: a BIN table, card numbers, images, a valid form."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from stdnum import luhn

from subsidy.models import BankBin


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """A process-local cache for these tests: under `pytest -n 2` both workers would otherwise
    share one Redis database, and one worker's cache.clear() or rate-limit keys (the same
    phone numbers) would leak into the other's OTP tests. The limiter's logic is the same on
    any cache backend."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "subsidy-tests",
        }
    }
    from django.core.cache import cache

    cache.clear()
    yield


def card(prefix: str, length: int = 19, fill: str = "0") -> str:
    body = (prefix + fill * length)[: length - 1]
    return body + luhn.calc_check_digit(body)


ICBC_DEBIT = card("622202")  # 19 digits
ICBC_CREDIT = card("622210", 16)
CCB_DEBIT = card("436742")
UNKNOWN = card("999999")


@pytest.fixture
def bins(db):
    """A few rows of the shipped table, plus a short foreign prefix that 622202 must outrank."""
    rows = [
        ("622202", "ICBC", "DC", 19),
        ("9558", "ICBC", "DC", 19),
        ("622210", "ICBC", "CC", 16),
        ("436742", "CCB", "DC", 19),
        ("6222", "XYZB", "DC", 19),
    ]
    for b, bank, kind, length in rows:
        BankBin.objects.get_or_create(bin=b, bank=bank, card_type=kind, length=length)


def image_bytes(fmt="JPEG", size=(640, 400), color=(200, 30, 30), exif=None) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", size, color)
    kwargs = {"exif": exif} if exif is not None else {}
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def photo(name="card.jpg", data=None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data if data is not None else image_bytes(), content_type)


def form_data(**overrides) -> dict:
    data = {
        "kind": "enrollment",
        "study_number": "2024440100123",
        "worker_group": "manufacturing",
        "hukou": "agricultural",
        "job_position": "数控车床操作工",
        "bank_account": ICBC_DEBIT,
        "bank_branch": "中国工商银行广州天河支行",
        "union_contact_phone": "020-83001234",
        "confirm_identity": "on",
        "commitment_version": "1",
        "accept_commitment": "on",
        "notify_opt_in": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def applicant(member, campaign, bins):
    return member


@pytest.fixture
def api(applicant):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=applicant.user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def post_application(client, key=None, **overrides):
    data = form_data(**overrides)
    if "card_photo" not in overrides:
        data["card_photo"] = photo()
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/applications/", data, format="multipart", **headers)
