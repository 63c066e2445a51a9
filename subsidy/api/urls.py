"""The applicant's part of /api/v1/ (SPEC §11)."""

from django.urls import path

from subsidy.api import views

urlpatterns = [
    path("auth/otp/", views.request_otp, name="api-auth-otp"),
    path("auth/token/", views.obtain_token, name="api-auth-token"),
    path("me/eligibility/", views.my_eligibility, name="api-eligibility"),
    path("applications/", views.create_application, name="api-applications"),
    path("applications/mine/", views.my_applications, name="api-applications-mine"),
    path("applications/<int:pk>/", views.my_application, name="api-application"),
]
