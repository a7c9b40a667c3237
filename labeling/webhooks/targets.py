"""Which URLs a webhook may call: http(s) to public addresses, unless settings allow more.

A webhook makes the server send requests where a lead says, so it must not become a
way into the server's own network (SSRF): loopback, private, link-local (cloud metadata
at 169.254.169.254), multicast, reserved and unspecified addresses are refused. The
URL's host is checked when the webhook is saved (names like ``localhost`` and literal
addresses), and every address it resolves to is checked again before each delivery,
which then connects to the address it checked (a name cannot resolve elsewhere between
the check and the connection). Loopback and private networks can be allowed for tests
and single-host setups (``LABELING_WEBHOOKS_ALLOW_LOOPBACK`` / ``_ALLOW_PRIVATE``).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEMES = ("http", "https")
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_ALLOW_LOOPBACK = "set LABELING_WEBHOOKS_ALLOW_LOOPBACK=true to allow it"


class UnsafeTarget(ValueError):
    """A URL or address a webhook may not call; the message says why and what is allowed."""


@dataclass(frozen=True)
class Target:
    """A checked URL: scheme, host name, port and the path with its query."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def check_url(url: str, *, allow_loopback: bool, allow_private: bool) -> Target:
    """The parts of ``url`` if a webhook may call it, else ``UnsafeTarget``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"is not a valid URL ({exc})") from None
    if parts.scheme not in SCHEMES:
        raise UnsafeTarget("must start with http:// or https://")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeTarget("has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget(
            "must not carry credentials (user:password@); the signature authenticates"
        )
    if parts.fragment:
        raise UnsafeTarget("must not have a #fragment")
    literal = _literal_address(host)
    if literal is not None:
        check_address(literal, allow_loopback=allow_loopback, allow_private=allow_private)
    elif _is_loopback_name(host) and not allow_loopback:
        raise UnsafeTarget(f"points at this machine ({host}); {_ALLOW_LOOPBACK}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _is_loopback_name(host: str) -> bool:
    host = host.lower()
    return host in _LOOPBACK_NAMES or host.endswith(".localhost")


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    *,
    allow_loopback: bool,
    allow_private: bool,
) -> None:
    """``UnsafeTarget`` unless a webhook may connect to ``address``."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        if allow_loopback:
            return
        raise UnsafeTarget(f"points at this machine ({address}); {_ALLOW_LOOPBACK}")
    if address.is_unspecified or address.is_multicast or address.is_link_local:
        raise UnsafeTarget(f"points at {address}, which is not a reachable service address")
    if address.is_private or address in ipaddress.ip_network("100.64.0.0/10"):
        if allow_private:
            return
        raise UnsafeTarget(
            f"points at a private network address ({address}); set "
            "LABELING_WEBHOOKS_ALLOW_PRIVATE=true to allow private networks"
        )
    if address.is_reserved or not address.is_global:
        raise UnsafeTarget(f"points at {address}, which is not a public address")


def resolve(target: Target, *, allow_loopback: bool, allow_private: bool) -> str:
    """The first address ``target.host`` resolves to, after checking every one of them.

    ``UnsafeTarget`` if any is refused; ``OSError`` (e.g. ``socket.gaierror``) if the
    name does not resolve (a transient failure: the delivery is tried again).
    """
    infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise OSError(f"{target.host} resolves to no address")
    for address in addresses:
        check_address(
            ipaddress.ip_address(address.split("%")[0]),
            allow_loopback=allow_loopback,
            allow_private=allow_private,
        )
    return addresses[0]
