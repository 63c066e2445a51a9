"""Request shapes of the applicant API. The application itself is validated by
`subsidy.forms.ApplicationForm` (one validator for the page and the API)."""

from rest_framework import serializers


class OtpRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=20)


class TokenRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=20)
    code = serializers.CharField(max_length=10)


class ApplicationCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    queue_number = serializers.IntegerField()
    attempt = serializers.IntegerField()
    bin_unknown = serializers.BooleanField()


_SUBMITTED_AT = serializers.DateTimeField()


def created_body(app) -> dict:
    """What `ApplicationCreatedSerializer(app).data` gives (a test holds them equal), without
    building the serializer's fields per request: every submission of the rush answers it."""
    return {
        "id": app.pk,
        "status": app.status,
        "submitted_at": _SUBMITTED_AT.to_representation(app.submitted_at),
        "queue_number": app.queue_number,
        "attempt": app.attempt,
        "bin_unknown": bool(app.bin_unknown),
    }


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class OtpSentSerializer(serializers.Serializer):
    detail = serializers.CharField()
    expires_in = serializers.IntegerField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    role = serializers.ChoiceField(choices=["applicant", "reviewer"])


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class EligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    reasons = ReasonSerializer(many=True)
    campaign = serializers.DictField(allow_null=True)


class ApplicationFormSerializer(serializers.Serializer):
    """The multipart fields of SPEC §4 step 3 (validated by subsidy.forms.ApplicationForm)."""

    kind = serializers.ChoiceField(choices=["enrollment", "self_study"])
    study_number = serializers.CharField()
    confirm_number = serializers.BooleanField(required=False)
    worker_group = serializers.CharField()
    hukou = serializers.CharField()
    job_position = serializers.CharField()
    bank_account = serializers.CharField()
    confirm_unknown_bin = serializers.BooleanField(required=False)
    bank_branch = serializers.CharField()
    card_photo = serializers.ImageField()
    union_contact_phone = serializers.CharField()
    confirm_identity = serializers.BooleanField()
    commitment_version = serializers.IntegerField()
    accept_commitment = serializers.BooleanField()
    notify_opt_in = serializers.BooleanField(required=False)


class TimelineEventSerializer(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()
    at = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)
    level = serializers.CharField(allow_blank=True)
    by = serializers.CharField(allow_blank=True)


class MyApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    attempt = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    queue_number = serializers.IntegerField()
    queue_position = serializers.IntegerField(allow_null=True)
    registry_reason = serializers.CharField(allow_blank=True)
    rejection_reason = serializers.CharField(allow_blank=True)
    can_resubmit = serializers.BooleanField()
    hotline = serializers.CharField(allow_blank=True)
    timeline = TimelineEventSerializer(many=True)


class FaqSerializer(serializers.Serializer):
    question = serializers.CharField()
    answer = serializers.CharField()


class MyApplicationsSerializer(serializers.Serializer):
    results = MyApplicationSerializer(many=True)
    hotline = serializers.CharField(allow_blank=True)
    faqs = FaqSerializer(many=True)
