from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from subsidy import views

admin.site.site_header = "求学圆梦 · 职工学历教育补助管理"
admin.site.site_title = "求学圆梦管理后台"
admin.site.index_title = "管理首页"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon),  # pages without our layout (the admin's) ask for it
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/health/", views.health, name="api-health"),
    # Each app owns its pages and its part of the API.
    path("", include("subsidy.web_urls")),
    path("", include("unions.urls")),
    path("review/", include("reviews.urls")),
    path("", include("payouts.urls")),
    path("", include("notifications.urls")),
    path("api/v1/", include("subsidy.api.urls")),
    path("api/v1/", include("reviews.api_urls")),
    path("api/v1/", include("payouts.api_urls")),
    path("api/v1/", include("notifications.api_urls")),
]

# Development-only simulators (registry under /registry-sim/): production does not install them.
if apps.is_installed("simulators"):
    urlpatterns.append(path("", include("simulators.urls")))

# An unexpected error answers the API's own shape ({"code", "detail"}) to API clients and the
# Chinese 500 page to browsers.
handler500 = "subsidy.views.server_error"
