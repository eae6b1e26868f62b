"""Where a server may be: the rules for plain http (loopback only) and for a server URL.

A server URL names a server and nothing else. A user name or password (``user:secret@``),
a query (``?token=...``) or a fragment (``#token=...``) would carry a credential where it
is not treated as one: in every repr, pickle, job journal entry, saved account, log line
and error that quotes the URL, and over plain http to whoever listens. So such a URL is
refused wherever one enters, with a message that never repeats the refused part, and
the token goes in ``token=`` (or ``QISKIT_VENDOR_TOKEN``), which is never shown.

>>> is_loopback_host("127.0.0.1"), is_loopback_host("localhost"), is_loopback_host("::1")
(True, True, True)
>>> is_loopback_host("example.com"), is_loopback_host("10.0.0.1"), is_loopback_host("")
(False, False, False)
>>> url_credential_parts("https://api.vendor.example/v1")
[]
>>> url_credential_parts("https://me:pw@api.vendor.example/?token=x#y")
["an '@' (as in user:password@host)", 'a query (?...)', 'a fragment (#...)']
>>> masked_url("https://me:pw@api.vendor.example/base?token=x")
'https://***@api.vendor.example/base?***'
"""

from __future__ import annotations

import ipaddress

from qiskit_vendor_provider.errors import VendorValidationError


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, without brackets) is a loopback host."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split(url: str) -> tuple[str, str, str, str, str, str]:
    """``url`` as (scheme, userinfo, host, path, query, fragment), by plain text search.

    Not :func:`urllib.parse.urlsplit`: this must work on text no parser accepts (a port
    that is not a number, a bracket left open), so that no URL is ever echoed whole
    because it could not be parsed. A part that is absent is ``""``; a query or a
    fragment that is present keeps its leading ``?`` or ``#``, even when empty.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    fragment_at = rest.find("#")
    fragment = rest[fragment_at:] if fragment_at >= 0 else ""
    rest = rest[:fragment_at] if fragment_at >= 0 else rest
    query_at = rest.find("?")
    query = rest[query_at:] if query_at >= 0 else ""
    rest = rest[:query_at] if query_at >= 0 else rest
    path_at = rest.find("/")
    authority, path = (rest[:path_at], rest[path_at:]) if path_at >= 0 else (rest, "")
    userinfo, at, host = authority.rpartition("@")
    if not at:
        userinfo = ""
    return scheme, userinfo + at, host, path, query, fragment


def url_credential_parts(url: str) -> list[str]:
    """The parts of ``url`` that could carry a credential, described; empty if none.

    Any ``@`` counts (not only one before the host): parsers disagree on where the
    host ends, and a server root has no use for one.
    """
    _, userinfo, _, path, query, fragment = _split(url)
    parts = []
    if userinfo or "@" in path:
        parts.append("an '@' (as in user:password@host)")
    if query:
        parts.append("a query (?...)")
    if fragment:
        parts.append("a fragment (#...)")
    return parts


def masked_url(url: str) -> str:
    """``url`` with every part that could carry a credential replaced by ``***``.

    What may be shown of a URL that :func:`check_server_url` refuses (a saved account
    written by hand, say); a URL without such parts is returned unchanged.
    """
    scheme, userinfo, host, path, query, fragment = _split(url)
    if not (userinfo or "@" in path or query or fragment):
        return url
    shown = f"{scheme}://" if scheme else ""
    shown += ("***@" if userinfo else "") + host
    shown += ("/***" if "@" in path else path) + ("?***" if query else "")
    return shown + ("#***" if fragment else "")


_TOKEN_ELSEWHERE = "the token separately: VendorProvider(token=...) or QISKIT_VENDOR_TOKEN"  # noqa: S105 - advice, not a secret


def check_server_url(url: str, what: str = "url", *, fix: str = _TOKEN_ELSEWHERE) -> str:
    """``url``, if it holds no part that could carry a credential.

    Args:
        url: A server URL.
        what: How the message names where the URL came from (``url``,
            ``QISKIT_VENDOR_URL``, ``the URL of account 'work'``...).
        fix: What to give besides the bare address (default: the token, separately).

    Raises:
        VendorValidationError: ``url`` has a user name or password, a query or a
            fragment. The message names the parts and shows the URL without them (never
            what they held), and says to pass the token with ``token=``.

    >>> check_server_url("https://api.vendor.example")
    'https://api.vendor.example'
    >>> check_server_url("http://10.1.2.3/?token=abc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qiskit_vendor_provider.errors.VendorValidationError: url is refused: it holds a query...
    """
    parts = url_credential_parts(url)
    if not parts:
        return url
    scheme, _, host, path, _, _ = _split(url)
    bare = (f"{scheme}://" if scheme else "") + host + ("" if "@" in path else path.rstrip("/"))
    raise VendorValidationError(
        f"{what} is refused: it holds {' and '.join(parts)}, which would carry a credential "
        "into reprs, logs, pickles, saved files and the job journal (and, over http, onto "
        f"the network). Give the server's address alone, e.g. {bare!r}, and {fix}"
    )
