"""The reviewers' API, mounted at /api/v1/."""

from django.urls import path

from reviews import api

urlpatterns = [
    path("reviews/", api.ReviewList.as_view(), name="api-reviews"),
    path("reviews/<int:pk>/", api.ReviewDetail.as_view(), name="api-review-detail"),
    path("reviews/<int:pk>/approve/", api.ReviewApprove.as_view(), name="api-review-approve"),
    path("reviews/<int:pk>/reject/", api.ReviewReject.as_view(), name="api-review-reject"),
]
