"""Statistics dashboards and the inquiry register (staff pages)."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("stats/", views.stats_index, name="stats_index"),
    path("stats/campaigns/<int:campaign_id>/", views.stats_page, name="stats"),
    path("stats/campaigns/<int:campaign_id>/export.xlsx", views.stats_export, name="stats_export"),
    path("inquiries/", views.inquiry_list, name="inquiries"),
    path("inquiries/new/", views.inquiry_new, name="inquiry_new"),
    path("inquiries/<int:pk>/", views.inquiry_edit, name="inquiry_edit"),
]
