"""Payout pages: the public list (公示) and the city staff's payout dashboard."""

from django.urls import path

from payouts import views

app_name = "payouts"

urlpatterns = [
    path("public/", views.public_current, name="public"),
    path("public/campaigns/<int:pk>/", views.public_campaign, name="public-campaign"),
    path("payouts/", views.dashboard, name="dashboard"),
    path("payouts/campaigns/<int:pk>/allocate/", views.allocate, name="allocate"),
    path("payouts/campaigns/<int:pk>/publish/", views.publish, name="publish"),
    path("payouts/campaigns/<int:pk>/batches/", views.create_batch, name="create-batch"),
    path("payouts/batches/<int:pk>/", views.batch_detail, name="batch"),
    path("payouts/batches/<int:pk>/download/<str:fmt>/", views.download, name="download"),
    path("payouts/batches/<int:pk>/result/", views.import_result, name="import-result"),
    path("payouts/applications/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("payouts/applications/<int:pk>/account/", views.correct_account, name="correct-account"),
]
