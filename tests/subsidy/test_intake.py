"""Submission (R1, R4, R6), resubmission, idempotency, and the API's answers."""

import io
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, connections
from django.utils import timezone

from subsidy.models import Application, Campaign
from subsidy.models import ApplicationStatus as S
from subsidy.services import intake, uploads
from tests.factories import ApplicationFactory, CampaignFactory, MemberFactory
from tests.subsidy.conftest import UNKNOWN, form_data, photo, post_application


@pytest.mark.django_db
def test_submission_gets_a_server_timestamp_and_queue_number(api, applicant, campaign):
    before = timezone.now()
    r = post_application(api)
    assert r.status_code == 201, r.json()
    body = r.json()
    assert set(body) >= {"id", "status", "submitted_at", "queue_number"}
    assert body["status"] == "pending_chsi" and body["queue_number"] == 1
    app = Application.objects.get(pk=body["id"])
    assert app.submitted_at >= before
    assert app.commitment.version == 1 and app.notify_opt_in is True
    assert app.bank_account_last4 == app.bank_account[-4:]
    assert app.name == applicant.name and app.union == applicant.union
    assert uploads.read_original(app.bank_card_photo) is not None
    campaign.refresh_from_db()
    assert (campaign.applicant_count, campaign.last_queue_number) == (1, 1)


@pytest.mark.django_db
def test_queue_numbers_strictly_increase(tree, campaign, bins):
    numbers = []
    for _ in range(3):
        m = MemberFactory(union=tree.a1)
        data = _data()
        numbers.append(intake.submit(m, campaign, data).queue_number)
    assert numbers == [1, 2, 3]


def _data(**kw):
    from subsidy.forms import ApplicationForm

    form = ApplicationForm(form_data(**kw), {"card_photo": photo()})
    assert form.is_valid(), form.errors
    return form.submission_data()


@pytest.mark.django_db
def test_second_submission_is_refused_as_active_application(api, applicant, campaign):
    assert post_application(api).status_code == 201
    r = post_application(api)
    assert r.status_code == 409
    assert r.json()["code"] == "active_application"
    assert Application.objects.count() == 1


@pytest.mark.django_db
def test_idempotency_key_returns_the_same_application(api, applicant, campaign):
    first = post_application(api, key="abc-123")
    again = post_application(api, key="abc-123")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert Application.objects.count() == 1
    campaign.refresh_from_db()
    assert campaign.applicant_count == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change", [{"study_number": "2024440100999"}, {"kind": "self_study"}, {"bank_account": None}]
)
def test_a_key_reused_for_another_form_is_refused_not_answered_with_the_first(
    api, applicant, campaign, change
):
    from tests.subsidy.conftest import card

    if "bank_account" in change:
        change = {"bank_account": card("622202", fill="1")}  # another ICBC debit card
    first = post_application(api, key="once")
    other = post_application(api, key="once", **change)
    assert first.status_code == 201
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    same = post_application(api, key="once")  # the real retry still gets its application
    assert same.status_code == 200 and same.json()["id"] == first.json()["id"]
    assert Application.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["k" * 65, "键-中文", "tab\there"])
def test_an_idempotency_key_that_could_collide_or_is_not_ascii_is_refused(api, applicant, key):
    """Keys were cut to 64 characters: two long keys sharing their first 64 would have
    answered one another's application. Refused with a code, nothing stored."""
    r = post_application(api, key=key)
    assert r.status_code == 400 and r.json()["code"] == "idempotency_key_invalid"
    assert Application.objects.count() == 0


@pytest.mark.django_db
def test_a_retry_of_the_request_that_filled_the_cap_gets_its_application(api, applicant, campaign):
    """The retry is refused by the entry check twice over (cap reached, application active);
    it still answers 200 with the application its first request created."""
    campaign.application_cap = 1
    campaign.save()
    first = post_application(api, key="last-place")
    again = post_application(api, key="last-place")
    assert first.status_code == 201 and again.status_code == 200, again.json()
    assert again.json()["id"] == first.json()["id"]
    other = post_application(api, key="another-key")
    assert other.status_code == 409 and other.json()["code"] in {
        "intake_closed",
        "active_application",
    }


@pytest.mark.django_db
def test_a_retry_after_its_application_was_rejected_still_gets_it(api, applicant, campaign):
    """Not refused by the entry check (nothing is active): the insert meets the key's unique
    index, and the answer is the application of the first request, not a second attempt."""
    first = post_application(api, key="k-1").json()["id"]
    Application.objects.filter(pk=first).update(status=S.CHSI_FAILED)
    again = post_application(api, key="k-1")
    assert again.status_code == 200 and again.json()["id"] == first
    assert Application.objects.count() == 1


@pytest.mark.django_db
def test_a_first_submission_reads_the_members_attempts_once(api, applicant, campaign):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert post_application(api, key="once").status_code == 201
    # prepared on PostgreSQL (subsidy.services.prepared), where the token's query reads them
    # (subsidy.api.auth); as written elsewhere
    reads = ("EXECUTE submission_facts_", "SELECT status FROM subsidy_app")
    if connection.vendor == "postgresql":
        reads += ("EXECUTE member_token_",)
    attempts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(reads)]
    assert len(attempts) == 1, attempts
    looked_up_key = [q["sql"] for q in queries.captured_queries if "idempotency_key" in q["sql"]]
    assert [sql for sql in looked_up_key if sql.startswith("SELECT")] == []
    # the member and its union come with the token (subsidy.api.auth), not in a query of their own
    member_reads = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "unions_member"' in q["sql"] and "authtoken_token" not in q["sql"]
    ]
    assert member_reads == []


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.CHSI_FAILED, S.GRASSROOTS_REJECTED, S.DISTRICT_REJECTED])
def test_resubmission_after_a_retryable_rejection_is_a_new_attempt(
    api, applicant, campaign, status
):
    first = Application.objects.get(pk=post_application(api).json()["id"])
    Application.objects.filter(pk=first.pk).update(status=status)
    r = post_application(api)
    assert r.status_code == 201, r.json()
    second = Application.objects.get(pk=r.json()["id"])
    assert second.attempt == 2 and second.queue_number > first.queue_number
    campaign.refresh_from_db()
    assert campaign.applicant_count == 1  # R1 counts distinct members
    assert campaign.last_queue_number == 2


@pytest.mark.django_db
def test_never_resubmit_after_city_rejection(api, applicant, campaign):
    first = post_application(api).json()["id"]
    Application.objects.filter(pk=first).update(status=S.CITY_REJECTED)
    r = post_application(api)
    assert r.status_code == 409 and r.json()["code"] == "city_rejected"


@pytest.mark.django_db
def test_a_submission_by_someone_already_granted_is_refused_with_the_year(api, applicant, campaign):
    """R5 on the API: the grant is read with the token (subsidy.api.auth) — from the ledger,
    or from a paid application of an earlier campaign."""
    from payouts.models import GrantLedger

    GrantLedger.objects.create(
        id_hmac=applicant.id_hmac, name=applicant.name, year=2021, amount_cny="1500.00"
    )
    r = post_application(api)
    assert r.status_code == 403 and r.json()["code"] == "already_granted"
    assert "2021" in r.json()["detail"] and not Application.objects.exists()
    GrantLedger.objects.all().delete()
    earlier = CampaignFactory(year=2023, opens_at=campaign.opens_at - timedelta(days=400))
    earlier.closes_at = earlier.opens_at + timedelta(days=30)
    earlier.save()
    ApplicationFactory(campaign=earlier, member=applicant, status=S.PAID)
    r = post_application(api)
    assert r.status_code == 403 and r.json()["code"] == "already_granted"
    assert "2023" in r.json()["detail"]


@pytest.mark.django_db
def test_the_member_past_the_cap_is_refused(tree, campaign, bins):
    campaign.application_cap = 2
    campaign.save()
    for _ in range(2):
        intake.submit(MemberFactory(union=tree.a1), campaign, _data())
    with pytest.raises(intake.IntakeRefused) as exc:
        intake.submit(MemberFactory(union=tree.a1), campaign, _data())
    assert exc.value.code == "intake_closed"
    assert Application.objects.count() == 2


@pytest.mark.django_db
def test_resubmission_is_refused_once_the_cap_closed_intake(tree, campaign, bins):
    campaign.application_cap = 1
    campaign.save()
    m = MemberFactory(union=tree.a1)
    app = intake.submit(m, campaign, _data())
    Application.objects.filter(pk=app.pk).update(status=S.CHSI_FAILED)
    with pytest.raises(intake.IntakeRefused) as exc:
        intake.submit(m, campaign, _data())
    assert exc.value.code == "intake_closed"  # R4: resubmissions are refused too


@pytest.mark.django_db
def test_quota_of_city_approvals_closes_intake(tree, campaign, bins):
    campaign.quota = 1
    campaign.save()
    ApplicationFactory(campaign=campaign, status=S.APPROVED, city_approved_at=timezone.now())
    with pytest.raises(intake.IntakeRefused) as exc:
        intake.submit(MemberFactory(union=tree.a1), campaign, _data())
    assert exc.value.code == "intake_closed"


@pytest.mark.django_db
def test_window_closed_refuses(api, applicant, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    r = post_application(api)
    assert r.status_code == 409 and r.json() == {
        "code": "window_closed",
        "detail": r.json()["detail"],
    }
    assert "不在申领时间内" in r.json()["detail"]


@pytest.mark.django_db
def test_refused_submission_leaves_no_photo_behind(settings, api, applicant, campaign):
    campaign.intake_closed_manually = True
    campaign.save()
    assert post_application(api).status_code == 409
    root = settings.PRIVATE_MEDIA_ROOT
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


@pytest.mark.django_db
def test_unknown_bin_confirmed_is_flagged_for_reviewers(api, applicant, campaign):
    r = post_application(api, bank_account=UNKNOWN)
    assert r.status_code == 400 and r.json()["code"] == "bin_unknown"
    r = post_application(api, bank_account=UNKNOWN, confirm_unknown_bin="true")
    assert r.status_code == 201
    assert Application.objects.get(pk=r.json()["id"]).bin_unknown is True


@pytest.mark.django_db
def test_integrity_error_from_the_r6_index_becomes_active_application(
    monkeypatch, tree, campaign, bins
):
    """If the R6 check were bypassed, the partial unique index still refuses — cleanly."""
    m = MemberFactory(union=tree.a1)
    intake.submit(m, campaign, _data())
    monkeypatch.setattr(intake.eligibility, "check", lambda *a, **k: [])
    monkeypatch.setattr(intake.eligibility, "reasons_from_statuses", lambda *a, **k: [])
    with pytest.raises(intake.IntakeRefused) as exc:
        intake.submit(m, campaign, _data())
    assert exc.value.code == "active_application"
    assert Application.objects.filter(member=m).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_lock_that_cannot_be_had_answers_busy_503(monkeypatch, tree, bins):
    if connection.vendor != "postgresql":
        pytest.skip("row lock timeouts are a PostgreSQL feature")
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from tests.factories import CampaignFactory, CommitmentFactory

    CommitmentFactory()
    campaign = CampaignFactory()
    m = MemberFactory(union=tree.a1)
    monkeypatch.setattr(intake, "LOCK_TIMEOUT", "200ms")
    held, release = threading.Event(), threading.Event()

    def hold_lock():
        from django.db import transaction

        with transaction.atomic():
            list(Campaign.objects.select_for_update().filter(pk=campaign.pk))
            held.set()
            release.wait(10)
        connections.close_all()

    t = threading.Thread(target=hold_lock)
    t.start()
    held.wait(5)
    try:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=m.user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        r = post_application(client)
    finally:
        release.set()
        t.join()
    assert r.status_code == 503
    assert r.json() == {"code": "busy", "detail": "系统繁忙，请稍后重试"}
    assert r["Retry-After"] == "3"
    assert Application.objects.count() == 0
    # The transaction the refused claim opened was ended: the retry on the same connection
    # is stored, as the first attempt.
    again = post_application(client)
    assert again.status_code == 201, again.json()
    assert again.json()["attempt"] == 1 and Application.objects.count() == 1


@pytest.mark.django_db
def test_a_signed_in_non_member_is_refused_with_not_member(campaign, bins):
    from rest_framework.test import APIClient

    from tests.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory(username="13700000009"))
    r = post_application(client)
    assert r.status_code == 403 and r.json()["code"] == "not_member"
    assert "实名工会会员" in r.json()["detail"]


@pytest.mark.django_db
def test_a_late_arrival_is_refused_before_its_form_is_checked(api, applicant, campaign):
    """The entry check answers first: no photo decoding for someone who cannot get in."""
    campaign.intake_closed_manually = True
    campaign.save()
    r = post_application(api, card_photo=photo("x.jpg", b"not an image"), bank_account="")
    assert r.status_code == 409 and r.json()["code"] == "intake_closed"


def test_an_early_refusal_still_reads_the_whole_upload(api):
    """Refused before the form is parsed (here: already applied), the request's unread body
    is drained, so the server can keep the connection alive for the client's next request
    (gunicorn closes a keep-alive connection that still holds an unread body)."""
    assert post_application(api).status_code == 201
    r = post_application(api)
    assert r.status_code == 409 and r.json()["code"] == "active_application"
    assert r.wsgi_request._read_started is False  # the view never touched the body …
    assert r.wsgi_request._stream.read() == b""  # … and nothing of it is left unread


@pytest.mark.django_db
def test_photo_is_stored_as_received_then_re_encoded_by_the_registry_check(
    api, applicant, campaign, settings, django_capture_on_commit_callbacks
):
    """The request keeps the verified upload as received (a slice of a segment file); the
    registry check (inline here) replaces it by a re-encoded JPEG without EXIF before
    reviewers can see the application, and zeroes the slice."""
    from PIL import Image

    from tests.subsidy.conftest import image_bytes

    exif = Image.Exif()
    exif[0x8825] = {2: (23.0, 7.0, 0.0)}  # GPS
    exif[0x010F] = "SecretPhoneMaker"
    original = image_bytes("JPEG", exif=exif.tobytes())
    kept = []
    real_receive = uploads.receive

    def spy(data):
        kept.append(real_receive(data))
        assert uploads.read_original(kept[-1]) == data  # in the request: as received
        return kept[-1]

    with (
        mock.patch.object(uploads, "receive", spy),
        django_capture_on_commit_callbacks(execute=True),  # the check task, inline
    ):
        r = post_application(api, card_photo=photo("card.jpg", original))
    assert r.status_code == 201
    app = Application.objects.get(pk=r.json()["id"])
    assert app.bank_card_photo.endswith(".jpg")
    content = uploads.path_of(app.bank_card_photo).read_bytes()
    assert b"SecretPhoneMaker" not in content and not Image.open(io.BytesIO(content)).getexif()
    assert uploads.read_original(kept[0]) is None
    on_disk = b"".join(p.read_bytes() for p in settings.PRIVATE_MEDIA_ROOT.rglob("*.seg"))
    assert b"SecretPhoneMaker" not in on_disk


@pytest.mark.django_db
def test_photo_view_never_serves_an_upload_as_received(client, applicant, campaign):
    """Should the check not have run yet, the view re-encodes first (and keeps the result)."""
    from tests.subsidy.conftest import image_bytes

    rel = uploads.receive(image_bytes("PNG"))
    app = ApplicationFactory(campaign=campaign, member=applicant, bank_card_photo=rel)
    client.force_login(applicant.user)
    r = client.get(f"/applications/{app.pk}/photo/")
    assert r.status_code == 200
    assert b"".join(r.streaming_content)[:2] == b"\xff\xd8"  # a JPEG, not the PNG received
    app.refresh_from_db()
    assert app.bank_card_photo.endswith(".jpg") and uploads.read_original(rel) is None


@pytest.mark.django_db
def test_an_oversized_refused_body_is_not_read_to_the_end(api):
    """Draining stops at MAX_DRAIN: a huge body is not worth reading to keep a connection."""
    from subsidy.middleware import DrainUnreadBodyMiddleware

    assert post_application(api).status_code == 201
    big = photo("big.jpg", b"\xff\xd8" + b"0" * (DrainUnreadBodyMiddleware.MAX_DRAIN + 1))
    r = post_application(api, card_photo=big)
    assert r.status_code == 409 and r.json()["code"] == "active_application"
    assert r.wsgi_request._stream.read(16)  # left on the stream, not drained


@pytest.mark.django_db
def test_a_photo_that_cannot_be_re_encoded_leaves_the_application_without_one(
    applicant, campaign, caplog
):
    """A complete JPEG whose scan data the decoder refuses passes the submission check; the
    re-encoding logs (without the path or the bytes), deletes the upload and the reviewer
    sees 未上传 — to be returned for a new photo."""
    import random

    from PIL import Image

    from tests.subsidy.test_uploads import _textured_jpeg

    data = bytearray(_textured_jpeg())
    scan = Image.open(io.BytesIO(bytes(data))).fp.tell()
    rnd = random.Random(0)
    for _ in range(200):
        data[rnd.randrange(scan + 100, len(data) - 1000)] = rnd.randrange(256)
    rel = uploads.receive(bytes(data))
    app = ApplicationFactory(campaign=campaign, member=applicant, bank_card_photo=rel)
    assert uploads.finalize_application_photo(app.pk) == ""
    app.refresh_from_db()
    assert app.bank_card_photo == "" and uploads.read_original(rel) is None
    assert "photo_corrupt" in caplog.text and rel not in caplog.text


@pytest.mark.django_db
def test_the_created_answer_is_what_its_documented_serializer_gives(api, applicant, campaign):
    from subsidy.api.serializers import ApplicationCreatedSerializer

    r = post_application(api, key="doc")
    assert r.status_code == 201
    app = Application.objects.get(pk=r.json()["id"])
    assert r.json() == ApplicationCreatedSerializer(app).data


@pytest.mark.django_db
def test_the_submission_answers_json_whatever_the_client_accepts(api, applicant, campaign):
    from tests.subsidy.conftest import form_data

    def post(key):
        data = {**form_data(), "card_photo": photo()}
        return api.post(
            "/api/v1/applications/",
            data,
            format="multipart",
            HTTP_IDEMPOTENCY_KEY=key,
            HTTP_ACCEPT="text/html",
        )

    r = post("html")
    assert r.status_code == 201 and r["Content-Type"] == "application/json"
    refused = post("html-2")
    assert refused.status_code == 409 and refused["Content-Type"] == "application/json"
    assert refused.json()["code"] == "active_application"


@pytest.mark.django_db
def test_a_submission_without_any_campaign_is_refused_not_a_500(api, applicant):
    Campaign.objects.all().delete()
    r = post_application(api)
    assert r.status_code in (403, 409) and r.json()["code"] == "no_campaign"
    assert not Application.objects.exists()
