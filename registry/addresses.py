"""The address a request comes from, as the login limits (accounts.login_security) and the public
report form's throttle (registry.upkeep_views) count it: one function, so that both count alike."""

import ipaddress

from django.conf import settings


def counted_address(value):
    """Return the address failed logins are counted for: an IPv4 address as is, an IPv6 one as its /64 network.

    The /64 is written as its first address ("2001:db8:1:2::"), which axes stores like any address.
    None when `value` is no address.
    """
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False).network_address)
    return str(address)


def client_ip(request):
    """Return the address a request comes from, as counted_address() groups it.

    X-Forwarded-For is anyone's to write, so it counts only when DJANGO_TRUSTED_PROXY_COUNT says how
    many proxies of ours stand in front: each appends the address it received from, so the client is
    that many entries from the right. Otherwise, and when the header is short or malformed, the
    address of the connection itself.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            client = counted_address(forwarded[-count])
            if client:
                return client
    return counted_address(remote) or remote
