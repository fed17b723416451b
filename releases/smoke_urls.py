"""Which smoke-check URLs the server may call: a rule the SmokeCheck model enforces when one is saved
and the check applies again before each call (the host may resolve elsewhere by then)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from releases import conf


def smoke_url_problem(url: str) -> str:
    """Why the server must not call this smoke-check URL ('' when it may): only the configured production
    hosts, and never a loopback, link-local or private address once resolved (a smoke check is a request
    the server makes every minute on someone's word: it must not probe the internal network)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return "only http(s) URLs with a host are checked"
    allowed = conf.smoke_check_hosts()
    if host not in allowed:
        return f"host '{host}' is not in SMOKE_CHECK_HOSTS ({', '.join(allowed) or 'none configured'})"
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError):
        return f"host '{host}' does not resolve"
    if conf.smoke_check_allow_private():
        return ""
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            return f"host '{host}' resolves to a non-public address ({ip})"
    return ""
