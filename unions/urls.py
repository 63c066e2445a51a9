"""Union admins' pages: membership requests (join and transfer) awaiting their decision."""

from django.urls import path

from unions import views

app_name = "unions"

urlpatterns = [
    path("unions/requests/", views.request_list, name="requests"),
    path(
        "unions/requests/<str:kind>/<int:pk>/<str:action>/",
        views.decide,
        name="decide",
    ),
]
