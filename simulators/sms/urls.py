"""The SMS gateway simulator mounted under /sms-sim/ in development: point the provider
backend at it (SMS_BACKEND=provider SMS_PROVIDER_URL=http://127.0.0.1:8000/sms-sim/) to see
the gateway's shape without a real account. Its AccessKey is SMS_PROVIDER_KEY_ID /
SMS_PROVIDER_KEY when set, else demo-key-id / demo-key-secret."""

import threading

from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from simulators.registry.simulator import DROP
from simulators.sms.simulator import SmsGateway

_lock = threading.Lock()
_gateway = None


def gateway() -> SmsGateway:
    global _gateway
    with _lock:
        if _gateway is None:
            _gateway = SmsGateway(
                settings.SMS_PROVIDER_KEY_ID or "demo-key-id",
                settings.SMS_PROVIDER_KEY or "demo-key-secret",
            )
        return _gateway


@csrf_exempt
def endpoint(request, rest=""):
    answer = gateway().handle(
        request.method,
        rest,
        {k: request.GET.getlist(k) for k in request.GET},
        "",
        request.body,
    )
    if answer is DROP:
        return HttpResponse(b"", status=503)
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


urlpatterns = [
    path("", endpoint, name="sms-sim-root"),
    path("<path:rest>", endpoint, name="sms-sim"),
]
