"""ID numbers are encrypted at rest, looked up and kept unique through a keyed blind index,
and a wrong key raises instead of returning ciphertext."""

import pytest
from cryptography.fernet import Fernet
from django.db import IntegrityError, connection, transaction

from tests.factories import MemberFactory, make_id_number
from unions.models import Member
from unions.pii import (
    DecryptionError,
    blind_index,
    mask_account,
    mask_id_number,
    mask_name,
    mask_phone,
    scrub,
)


def _raw_column(member):
    with connection.cursor() as cur:
        cur.execute("SELECT id_number, id_hmac FROM unions_member WHERE id = %s", [member.pk])
        return cur.fetchone()


@pytest.mark.django_db
def test_id_number_round_trips_and_is_ciphertext_in_the_database(tree):
    number = make_id_number(701)
    member = MemberFactory(union=tree.a1, id_number=number)
    stored, hmac_value = _raw_column(member)
    assert number not in stored and stored.startswith("gAAAA")
    assert hmac_value == blind_index(number) and number not in hmac_value
    assert Member.objects.get(pk=member.pk).id_number == number


@pytest.mark.django_db
def test_a_wrong_key_raises_instead_of_returning_ciphertext(tree, settings):
    member = MemberFactory(union=tree.a1)
    settings.PII_FERNET_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError):
        Member.objects.get(pk=member.pk)


@pytest.mark.django_db
def test_key_rotation_keeps_old_rows_readable(tree, settings):
    number = make_id_number(702)
    member = MemberFactory(union=tree.a1, id_number=number)
    settings.PII_FERNET_KEYS = [Fernet.generate_key().decode(), *settings.PII_FERNET_KEYS]
    assert Member.objects.get(pk=member.pk).id_number == number


@pytest.mark.django_db
def test_blind_index_is_keyed(settings):
    number = make_id_number(703)
    before = blind_index(number)
    settings.PII_HMAC_KEY = "another-key"
    assert blind_index(number) != before


@pytest.mark.django_db
def test_lookup_by_id_number_goes_through_the_blind_index(tree):
    number = make_id_number(704)
    member = MemberFactory(union=tree.a1, id_number=number)
    assert Member.objects.by_id_number(number).get() == member
    assert Member.objects.by_id_number(number.lower()).get() == member
    with pytest.raises(TypeError):
        Member.objects.filter(id_number=number).exists()


@pytest.mark.django_db
def test_the_database_refuses_two_members_with_one_id_number(tree):
    number = make_id_number(705)
    MemberFactory(union=tree.a1, id_number=number)
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(union=tree.a2, id_number=number)


def test_masks():
    assert mask_id_number("440106199503071234") == "440106********1234"
    assert mask_account("6222021001115227281") == "****7281"
    assert mask_phone("13900000001") == "139****0001"
    assert mask_name("张小明") == "张*明"
    assert mask_name("欧阳小明") == "欧阳*明"
    assert mask_name("张明") == "张*"


def test_log_scrubbing_masks_id_and_card_numbers():
    text = scrub("id=440106199503071234 card=6222021001115227281 phone=13900000001")
    assert "440106199503071234" not in text and "440106********1234" in text
    assert "6222021001115227281" not in text and "****7281" in text
