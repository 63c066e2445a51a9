"""The simulators mounted in the development server (config/urls.py includes this module only
when the app is installed, i.e. never in production)."""

from django.conf import settings
from django.urls import include, path

urlpatterns = [path("sms-sim/", include("simulators.sms.urls"))]
if settings.REGISTRY_SIMULATOR_ENABLED:
    urlpatterns.append(path("registry-sim/", include("simulators.registry.urls")))
