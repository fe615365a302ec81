"""The wrong-credentials limiter's arithmetic, on a clock the test moves (seconds)."""

from __future__ import annotations

import pytest

from medremind.web.failure_limiter import FailureLimiter, client_of

NAT = "203.0.113.5"


def test_a_client_spends_its_checks_then_waits_for_one_to_come_back() -> None:
    limiter = FailureLimiter(3, 900.0)
    assert [limiter.take(NAT, 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    # One check comes back every 900 / 3 = 300 s; nothing is taken while waiting.
    assert limiter.take(NAT, 0.0) == pytest.approx(300.0)
    assert limiter.take(NAT, 299.0) == pytest.approx(1.0)
    assert limiter.take(NAT, 300.0) == 0.0
    assert limiter.take(NAT, 300.0) == pytest.approx(300.0)
    # Another address is counted apart.
    assert limiter.take("198.51.100.7", 300.0) == 0.0


def test_a_valid_credential_gives_its_check_back_and_is_forgotten_when_full() -> None:
    limiter = FailureLimiter(2, 60.0)
    for _ in range(10):  # a busy integration with a good key never runs out
        assert limiter.take(NAT, 0.0) == 0.0
        limiter.give_back(NAT, 0.0)
    assert len(limiter) == 0  # a full bucket holds nothing: the address is not remembered


def test_a_trusted_key_is_checked_while_its_address_is_held_until_it_fails() -> None:
    limiter = FailureLimiter(1, 60.0, trust_seconds=3600.0)
    limiter.trust(NAT, "goodprefix01", 0.0)
    assert limiter.take(NAT, 0.0) == 0.0  # someone else's wrong key spends the one check
    assert limiter.take(NAT, 1.0) > 0  # held
    assert limiter.trusts(NAT, "goodprefix01", 1.0)
    assert not limiter.trusts("198.51.100.7", "goodprefix01", 1.0)  # trust is per address
    assert not limiter.trusts(NAT, "otherprefix1", 1.0)
    # The prefix with a wrong secret: trusted no more.
    limiter.distrust(NAT, "goodprefix01", 2.0)
    assert not limiter.trusts(NAT, "goodprefix01", 2.0)
    # Trust ends after trust_seconds without a success.
    limiter.trust(NAT, "goodprefix01", 10.0)
    assert limiter.trusts(NAT, "goodprefix01", 3609.0)
    assert not limiter.trusts(NAT, "goodprefix01", 3610.0)


def test_a_wave_of_guesses_at_a_trusted_prefix_is_capped() -> None:
    """Requests sent at once with a trusted prefix all pass before the first wrong one ends the
    trust: at most ``limit`` of them are checked at once."""
    limiter = FailureLimiter(2, 60.0)
    limiter.trust(NAT, "goodprefix01", 0.0)
    assert limiter.enter_trusted(NAT, "goodprefix01", 0.0)
    assert limiter.enter_trusted(NAT, "goodprefix01", 0.0)
    assert not limiter.enter_trusted(NAT, "goodprefix01", 0.0)  # takes a token, or waits
    limiter.leave_trusted(NAT, "goodprefix01")
    assert limiter.enter_trusted(NAT, "goodprefix01", 0.0)
    limiter.leave_trusted(NAT, "goodprefix01")
    limiter.leave_trusted(NAT, "goodprefix01")
    assert limiter._in_flight == {}  # nothing kept once none is in flight
    assert not limiter.enter_trusted(NAT, "otherprefix1", 0.0)


def test_memory_is_bounded_however_many_addresses_send_wrong_keys() -> None:
    limiter = FailureLimiter(1, 60.0, max_clients=100, max_trusted=10)
    for n in range(5000):
        limiter.take(f"10.0.{n // 256}.{n % 256}", 0.0)
        limiter.trust(f"10.0.{n // 256}.{n % 256}", "p", 0.0)
    assert len(limiter) == 100
    assert len(limiter._trusted) == 10
    # The most recent are the ones kept: the last address is still held.
    assert limiter.take("10.0.19.135", 0.0) > 0


def test_off() -> None:
    limiter = FailureLimiter(0, 60.0)
    assert all(limiter.take(NAT, 0.0) == 0.0 for _ in range(100))
    assert len(limiter) == 0


@pytest.mark.parametrize(
    ("address", "client"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("::ffff:203.0.113.5", "203.0.113.5"),  # IPv4-mapped: the same client
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),  # one host's /64 is one client
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        (None, "unknown"),
        ("testclient", "testclient"),
        ("x" * 500, "x" * 64),
    ],
)
def test_client_of(address: str | None, client: str) -> None:
    assert client_of(address) == client
