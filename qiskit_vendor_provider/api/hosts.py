"""Which hosts are this machine: the one rule for where plain http (and a server) may go.

>>> is_loopback_host("127.0.0.1"), is_loopback_host("localhost"), is_loopback_host("::1")
(True, True, True)
>>> is_loopback_host("example.com"), is_loopback_host("10.0.0.1"), is_loopback_host("")
(False, False, False)
"""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, without brackets) is a loopback host."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
