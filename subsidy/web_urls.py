"""The applicant's pages."""

from django.urls import path

from subsidy import web_views

urlpatterns = [
    path("login/", web_views.login_view, name="login"),
    path("logout/", web_views.logout_view, name="logout"),
    path("apply/", web_views.apply_view, name="apply"),
    path("apply/form/", web_views.form_view, name="apply-form"),
    path("apply/progress/", web_views.progress_view, name="apply-progress"),
    path("applications/<int:pk>/photo/", web_views.card_photo, name="card-photo"),
]
