"""Payout endpoints of API v1 (SPEC §11): allocate, publish, revoke, the public grantee list."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiTypes, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from payouts.services import allocation, public_list, publication, revocation
from payouts.services.errors import PayoutError, is_city_staff
from subsidy.api.errors import ApiError
from subsidy.models import Application, Campaign


def _city_only(request):
    if not is_city_staff(request.user):
        raise ApiError("permission_denied", "只有市总工会工作人员可以执行此操作", 403)


def _api_error(exc: PayoutError):
    return ApiError(exc.code, exc.message, **exc.extra)


@extend_schema(
    request=None,
    responses=inline_serializer(
        "AllocationResult",
        {
            "campaign": serializers.IntegerField(),
            "funded": serializers.IntegerField(),
            "waitlisted": serializers.IntegerField(),
            "moved": serializers.IntegerField(),
            "published": serializers.BooleanField(),
        },
    ),
)
@api_view(["POST"])
def allocate(request, pk):
    _city_only(request)
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        r = allocation.allocate(campaign, actor=request.user)
    except PayoutError as exc:
        raise _api_error(exc)
    return Response(
        {
            "campaign": campaign.pk,
            "funded": r.funded,
            "waitlisted": r.waitlisted,
            "moved": r.moved_count,
            "published": r.published,
        }
    )


@extend_schema(
    request=None,
    responses=inline_serializer(
        "PublicationResult",
        {
            "campaign": serializers.IntegerField(),
            "published_at": serializers.DateTimeField(),
            "publication_ends_at": serializers.DateTimeField(),
        },
    ),
)
@api_view(["POST"])
def publish(request, pk):
    _city_only(request)
    get_object_or_404(Campaign, pk=pk)
    try:
        campaign = publication.publish(pk, by=request.user)
    except PayoutError as exc:
        raise _api_error(exc)
    return Response(
        {
            "campaign": campaign.pk,
            "published_at": campaign.published_at,
            "publication_ends_at": campaign.publication_ends_at,
        }
    )


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema(request=RevokeSerializer, responses=OpenApiTypes.OBJECT)
@api_view(["POST"])
def revoke(request, pk):
    # Outside the caller's scope → 404 (SPEC §11); inside but not city staff → 403.
    app = get_object_or_404(Application.objects.visible_to(request.user), pk=pk)
    _city_only(request)
    data = RevokeSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        promoted = revocation.revoke(app, request.user, data.validated_data["reason"])
    except PayoutError as exc:
        raise _api_error(exc)
    app.refresh_from_db(fields=["status"])
    return Response(
        {
            "id": app.pk,
            "status": app.status,
            "promoted": {"id": promoted.pk, "status": promoted.status} if promoted else None,
        }
    )


def _supplementary_item(row) -> dict:
    return {k: row[k] for k in ("no", "name", "union", "district", "type", "listed_at", "ends_at")}


@extend_schema(responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
@permission_classes([AllowAny])
def public_grantees(request, pk):
    """The published list (masked) while its period runs, and under it the supplementary list
    (补充公示): rows funded after publication, each inside its own period. After the main period
    the main list is gone (`state: ended`, `results: []`) while a supplementary period still
    runs; with neither, 410."""
    campaign = get_object_or_404(Campaign, pk=pk)
    state = public_list.public_state(campaign)
    if state == "not_published":
        raise ApiError("not_published")
    supplementary = [_supplementary_item(r) for r in public_list.supplementary_rows(campaign.pk)]
    if state == "ended" and not supplementary:
        raise ApiError("publication_ended")
    rows = public_list.grantee_rows(campaign.pk) if state == "open" else []
    return Response(
        {
            "campaign": campaign.pk,
            "title": campaign.title,
            "state": state,
            "published_at": campaign.published_at,
            "publication_ends_at": campaign.publication_ends_at,
            "count": len(rows),
            "results": rows,
            "supplementary": {"count": len(supplementary), "results": supplementary},
        }
    )
