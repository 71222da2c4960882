"""One TCP connection attempt, classified. Shared by the PostgreSQL and NodePort checks."""

from __future__ import annotations

import errno
import socket

OPEN = "open"            # a listener accepted the connection
REFUSED = "refused"      # the host answered with a reset (or ICMP port unreachable)
NO_ANSWER = "no answer"  # timeout or host/network unreachable: usually a firewall
UNRESOLVED = "unresolved"

_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT}


def probe(host: str, port: int, timeout: float) -> tuple[str, str]:
    """Try one TCP connection; return (outcome, reason). timeout is in seconds. Never raises."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        return UNRESOLVED, f"cannot resolve {host}: {getattr(e, 'strerror', None) or e}"
    family, socktype, proto, _, addr = infos[0]
    sock = socket.socket(family, socktype, proto)
    sock.settimeout(timeout)
    try:
        sock.connect(addr)
        return OPEN, "connected"
    except ConnectionRefusedError:
        return REFUSED, "connection refused"
    except TimeoutError:
        return NO_ANSWER, f"no answer within {timeout:g} s"
    except OSError as e:
        if e.errno in _UNREACHABLE:
            return NO_ANSWER, e.strerror or str(e)
        return REFUSED if e.errno == errno.ECONNRESET else NO_ANSWER, e.strerror or str(e)
    finally:
        sock.close()


def split_host_port(text: str, default_port: int) -> tuple[str, int]:
    """'host:5432', '[::1]:5432' or 'host' -> (host, port). Raises ValueError when malformed."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise ValueError(text)
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""  # a bare name, or a bare IPv6 address
    if not host:
        raise ValueError(text)
    value = int(port) if port else default_port
    if not 1 <= value <= 65535:
        raise ValueError(text)
    return host, value
