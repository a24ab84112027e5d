"""Which hosts ``archsim loadtest`` may load: loopback only, unless the user opts in.

A load test is indistinguishable from an attack to whoever runs the target, so the default
refuses anything that is not this machine: the URL's host must be ``localhost``, a loopback
literal (127.0.0.0/8, ::1) or a name whose *every* resolved address is loopback. ``--allow-remote``
lifts the rule for targets the user is entitled to load.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from ..errors import ArchsimError

Resolver = Callable[..., list]  #: ``socket.getaddrinfo``-compatible.

OPT_IN = "pass --allow-remote to load a host you are entitled to test"


def target_addresses(host: str, port: int | None, resolve: Resolver = socket.getaddrinfo) -> list[str]:
    """Every address ``host`` stands for (a literal is its own address)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = resolve(host, port or 80, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise ArchsimError(f"--host: cannot resolve {host!r}: {exc}") from None
    return sorted({info[4][0] for info in infos})


def check_target(url: str, *, allow_remote: bool = False, resolve: Resolver = socket.getaddrinfo) -> str:
    """Return ``url`` (without a trailing slash) if it may be loaded; else raise one line."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArchsimError(f"--host: expected a URL such as http://127.0.0.1:18080, got {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ArchsimError(f"--host: bad port in {url!r}") from None
    if not allow_remote:
        addresses = target_addresses(parts.hostname, port, resolve)
        remote = [a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback]
        if remote or not addresses:
            shown = f" (resolves to {', '.join(remote)})" if remote and remote != [parts.hostname] else ""
            raise ArchsimError(f"--host {url}: not a loopback address{shown}; archsim loads only this machine by default: {OPT_IN}")
    return url.rstrip("/")
