"""Which addresses a clinic's endpoint (an outgoing webhook, its SMTP server) may resolve to.

``platforms.addresses.is_private`` is the one rule of the API's check of a webhook URL, of the
worker's resolver before each delivery (DNS rebinding included) and of the SMTP connection.
Python's ``is_global`` calls an IPv6 address global whatever IPv4 address it carries: NAT64's
``64:ff9b::a9fe:a9fe`` (the metadata service, behind a cloud VPC's NAT64 gateway),
``64:ff9b::a00:5``, 6to4's ``2002:7f00:1::`` and the IPv4-compatible ``::127.0.0.1`` were
subscribed (201) and posted to; so were site-local ``fec0::`` and multicast addresses.
"""

from __future__ import annotations

import pytest

from platforms.addresses import is_private

REFUSED = [
    "127.0.0.1",
    "10.0.0.5",
    "169.254.169.254",
    "::1",
    "fd00::1",
    "fe80::1%eth0",
    "::ffff:10.0.0.1",
    # NAT64 (RFC 6052, RFC 8215) in front of an inside IPv4 address.
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::7f00:1",
    "64:ff9b::a00:5",
    "64:ff9b:1::a00:1",
    # 6to4 and IPv4-compatible addresses of loopback and the metadata service.
    "2002:7f00:1::",
    "2002:a9fe:a9fe::1",
    "::127.0.0.1",
    "::a9fe:a9fe",
    # Site-local (a private network's range) and multicast: nobody's endpoint.
    "fec0::1",
    "224.0.0.1",
    "239.255.255.250",
    "ff02::1",
    "ff0e::1",
]
ALLOWED = [
    "93.184.216.34",
    "8.8.8.8",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of a public address: what an IPv6-only host reaches it by
    "2002:808:808::1",
]


@pytest.mark.parametrize("address", REFUSED)
def test_inside_or_standing_for_inside_is_refused(address: str) -> None:
    assert is_private(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_private(address)
