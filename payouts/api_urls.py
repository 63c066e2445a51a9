"""Payout endpoints of API v1 (mounted at /api/v1/)."""

from django.urls import path

from payouts import api

urlpatterns = [
    path("campaigns/<int:pk>/allocate/", api.allocate, name="api-campaign-allocate"),
    path("campaigns/<int:pk>/publish/", api.publish, name="api-campaign-publish"),
    path("applications/<int:pk>/revoke/", api.revoke, name="api-application-revoke"),
    path(
        "public/campaigns/<int:pk>/grantees/",
        api.public_grantees,
        name="api-public-grantees",
    ),
]
