"""The client's address, decided in one place for every limiter and record (SPEC §12), and the
current request's address for audit records written deep inside services.

`TRUSTED_PROXIES` (one setting: the addresses or networks of the proxies in front of Django,
e.g. nginx) decides it. A request whose immediate peer (REMOTE_ADDR) is not a trusted proxy
comes from its peer, whatever headers it sends: a client that reaches gunicorn directly
cannot choose its address. A request from a trusted proxy is walked back through
`X-Forwarded-For` from the right (each proxy appends the address it saw, as nginx's
`$proxy_add_x_forwarded_for` does), skipping trusted proxies; the first address that is not a
proxy is the client. What a client wrote to the left of that is never read, so a forged
header changes nothing; a malformed entry ends the walk at the last good hop (never a 500).
`X-Real-IP` is not read at all.

Used by: the OTP limits (subsidy.services.otp), django-axes (AXES_CLIENT_IP_CALLABLE), the
staff sign-in throttle, the audit records (middleware → `current_ip`) and the PII view log.
"""

import ipaddress
from contextvars import ContextVar
from functools import lru_cache

from django.conf import settings

_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)
MAX_HOPS = 20  # an X-Forwarded-For longer than this is read only this far from the right


def current_ip() -> str | None:
    return _ip.get()


def set_ip(value: str | None):
    return _ip.set(value)


def reset_ip(token) -> None:
    _ip.reset(token)


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]):
    return tuple(ipaddress.ip_network(s, strict=False) for s in spec)


def trusted_networks():
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def parse_ip(value) -> str | None:
    """A canonical address from a header entry, or None: surrounding spaces, an IPv6 address in
    brackets, an IPv4 address with a port and IPv4-mapped IPv6 are understood."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64 or not text.isascii():
        return None
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def is_trusted_proxy(address: str | None) -> bool:
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip.version == net.version and ip in net for net in trusted_networks())


def client_ip(request) -> str | None:
    """The real client's address (see the module's docstring)."""
    peer = parse_ip(request.META.get("REMOTE_ADDR"))
    if not is_trusted_proxy(peer):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR") or ""
    address = peer
    for entry in reversed(forwarded.split(",")[-MAX_HOPS:]):
        hop = parse_ip(entry)
        if hop is None:
            break  # the chain is broken here: the last good hop is as far as we can trust
        address = hop
        if not is_trusted_proxy(hop):
            break
    return address
