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
