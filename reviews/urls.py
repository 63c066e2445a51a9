"""The reviewers' pages, mounted at /review/."""

from django.urls import path

from reviews import auth_views, views

app_name = "reviews"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("applications/<int:pk>/", views.detail, name="detail"),
    path("applications/<int:pk>/decide/", views.decide, name="decide"),
    path("applications/<int:pk>/reveal/<str:field>/", views.reveal, name="reveal"),
    path("batch-approve/", views.batch_approve, name="batch_approve"),
    path("export.xlsx", views.export, name="export"),
    path("reviewers/", views.reviewer_list, name="reviewers"),
    path("reviewers/<int:pk>/remove/", views.reviewer_remove, name="reviewer_remove"),
    path("login/", auth_views.login_view, name="login"),
    path("logout/", auth_views.logout_view, name="logout"),
    path("password-reset/", auth_views.password_reset, name="password_reset"),
    path("password-reset/sent/", auth_views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.password_reset_complete,
        name="password_reset_complete",
    ),
]
