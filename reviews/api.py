"""The reviewers' part of API v1 (SPEC §11): the scoped queue, detail, approve and reject.
The same services as the HTML pages; errors as {code, detail}; 409 `conflict` carries the
application's current status."""

from django.http import Http404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from reviews.models import AuditRecord
from reviews.services import decisions, queue
from subsidy.api.errors import ApiError
from subsidy.models import Application


class IsReviewer(IsAuthenticated):
    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if decisions.reviewer_level(request.user) is None:
            raise Http404  # applicants: the endpoint does not exist for them
        return True


class ReviewPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class ReviewListSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    union = serializers.CharField(source="union.name")
    union_id = serializers.IntegerField()
    id_number = serializers.CharField(source="masked_id_number")
    worker_group_label = serializers.CharField(source="get_worker_group_display")
    priority_group = serializers.BooleanField(source="is_priority_group")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = [
            "id",
            "queue_number",
            "name",
            "mobile",
            "id_number",
            "union",
            "union_id",
            "kind",
            "worker_group",
            "worker_group_label",
            "priority_group",
            "status",
            "status_label",
            "submitted_at",
            "overdue",
        ]

    def get_overdue(self, app) -> bool:
        return queue.is_overdue(app)


class AuditSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditRecord
        fields = [
            "seq",
            "transition",
            "from_status",
            "to_status",
            "actor_name",
            "level",
            "reason",
            "created_at",
        ]


class ReviewDetailSerializer(ReviewListSerializer):
    bank_account = serializers.CharField(source="masked_account")
    registry = serializers.JSONField(source="registry_record")
    history = serializers.SerializerMethodField()

    class Meta(ReviewListSerializer.Meta):
        fields = ReviewListSerializer.Meta.fields + [
            "study_number",
            "hukou",
            "job_position",
            "bank_name",
            "bank_account",
            "bank_branch",
            "bin_unknown",
            "union_contact_phone",
            "registry",
            "registry_outcome",
            "registry_reason",
            "confirmed_employed",
            "rejection_reason",
            "history",
        ]

    def get_history(self, app) -> list:
        return AuditSerializer(
            AuditRecord.objects.filter(application=app).order_by("seq"), many=True
        ).data


class ReviewList(ListAPIView):
    permission_classes = [IsReviewer]
    serializer_class = ReviewListSerializer
    pagination_class = ReviewPagination

    def get_queryset(self):
        level = decisions.reviewer_level(self.request.user)
        filters = queue.QueueFilters.from_params(self.request.query_params)
        rows, _ = queue.queue(self.request.user, filters, level, with_counts=False)
        return rows


@method_decorator(never_cache, name="dispatch")  # the detail carries PII: no stored copy
class ReviewDetail(RetrieveAPIView):
    permission_classes = [IsReviewer]
    serializer_class = ReviewDetailSerializer

    def get_queryset(self):
        return Application.objects.visible_to(self.request.user).select_related("union", "campaign")

    def retrieve(self, request, *args, **kwargs):
        app = self.get_object()
        decisions.mark_opened(request.user, app)
        return Response(self.get_serializer(app).data)


class DecisionSerializer(serializers.Serializer):
    confirm_employed = serializers.BooleanField(required=False, help_text="确认在职职工（基层）")
    reason = serializers.CharField(required=False, help_text="审核不通过原因（驳回必填）")
    expected_status = serializers.CharField(required=False, help_text="页面上看到的状态")


class DecisionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField()


class _Decision(APIView):
    permission_classes = [IsReviewer]
    serializer_class = DecisionSerializer
    action = ""

    @extend_schema(request=DecisionSerializer, responses=DecisionResultSerializer)
    def post(self, request, pk):
        data = request.data
        if not hasattr(data, "get"):  # a JSON list, string or number
            raise ApiError("invalid_body")
        try:
            if self.action == "approve":
                app = decisions.approve(
                    request.user,
                    pk,
                    confirm_employed=_truthy(data.get("confirm_employed")),
                    expected_status=data.get("expected_status") or None,
                )
            else:
                app = decisions.reject(
                    request.user,
                    pk,
                    reason=str(data.get("reason") or ""),
                    expected_status=data.get("expected_status") or None,
                )
        except decisions.NotInScope:
            raise Http404
        except decisions.DecisionError as exc:
            extra = {}
            if exc.current_status:
                extra = {"status": exc.current_status, "status_label": exc.current_status_label}
            raise ApiError(exc.code, exc.detail, **extra)
        return Response(
            {"id": app.pk, "status": app.status, "status_label": app.get_status_display()}
        )


def _truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "on", "yes")


class ReviewApprove(_Decision):
    action = "approve"


class ReviewReject(_Decision):
    action = "reject"
