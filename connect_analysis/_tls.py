"""Why a TLS connection failed, in words, and what to set only when it would help."""

from __future__ import annotations

_REASONS = (  # (OpenSSL's words, ours, whether a CA bundle could fix it)
    ("certificate has expired", "its certificate has expired (renew it on the server)", False),
    ("certificate is not yet valid", "its certificate is not valid yet (check the clocks)", False),
    ("Hostname mismatch", "its certificate is for another host name", False),
    ("IP address mismatch", "its certificate is for another address", False),
    ("self-signed certificate", "its certificate is self-signed and not trusted here", True),
    ("self signed certificate", "its certificate is self-signed and not trusted here", True),
    ("unable to get local issuer certificate", "its certificate is signed by a CA not trusted here", True),
    ("unable to get issuer certificate", "its certificate is signed by a CA not trusted here", True),
    ("certificate revoked", "its certificate was revoked", False),
    ("wrong version number", "it does not speak TLS on this port (try http://)", False),
)


def explain(server: str, error: Exception, verify) -> str:
    """One line: which server, why its TLS failed, and what to set where that would help.
    verify: the client's `verify` (True, False or the CONNECT_CA_CERTIFICATE path)."""
    text = str(error)
    why, fixable = next(((ours, fix) for words, ours, fix in _REASONS if words in text),
                        ("the TLS handshake failed", True))
    line = f"TLS verification failed for {server}: {why}"
    if not fixable:
        return line
    if isinstance(verify, str):
        return f"{line}; CONNECT_CA_CERTIFICATE ({verify}) does not hold the CA that signed it"
    return (f"{line}; set CONNECT_CA_CERTIFICATE to the CA bundle that signed its certificate "
            "(or CONNECT_INSECURE=1 to skip checks)")
