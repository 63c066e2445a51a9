"""API: the statistics of a campaign in the caller's scope."""

from django.urls import path

from notifications import views

urlpatterns = [
    path(
        "campaigns/<int:campaign_id>/stats/",
        views.CampaignStatsAPI.as_view(),
        name="api-campaign-stats",
    ),
]
