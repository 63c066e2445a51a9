"""The registry simulator mounted under /registry-sim/ (REGISTRY_SIMULATOR_ENABLED), so the
embedded system checks applications with a real HTTP round trip to itself. Its records come
from settings.REGISTRY_SIMULATOR_DATA, never from the database."""

import threading

from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from registry import conf
from simulators.registry.simulator import DROP, Simulator, Store

_lock = threading.Lock()
_simulator = None


def simulator() -> Simulator:
    """The process's simulator; follows settings (tests point them elsewhere)."""
    global _simulator
    with _lock:
        if _simulator is None:
            _simulator = Simulator(Store(settings.REGISTRY_SIMULATOR_DATA))
        sim = _simulator
        sim.store.set_path(settings.REGISTRY_SIMULATOR_DATA)
        sim.user = settings.REGISTRY_USER or ""
        sim.password = settings.REGISTRY_PASSWORD or ""
        sim.token = conf.get("REGISTRY_TOKEN")
        return sim


@csrf_exempt
def endpoint(request, rest=""):
    answer = simulator().handle(
        request.method,
        rest,
        {k: request.GET.getlist(k) for k in request.GET},
        request.headers.get("Authorization", ""),
        request.body,
    )
    if answer is DROP:  # WSGI cannot drop a connection; a bare 503 is the closest
        return HttpResponse(b"", status=503)
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


urlpatterns = [
    path("", endpoint, name="registry-sim-root"),
    path("<path:rest>", endpoint, name="registry-sim"),
]
