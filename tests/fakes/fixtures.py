"""Pytest fixtures for the fakes. Import the ones a test module uses::

    from tests.fakes.fixtures import fake_telegram, fake_twilio, smtp_sink  # noqa: F401

Each fixture starts a fresh server per test (they start in milliseconds) and stops it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.fakes.smtp import SmtpSink


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """A running :class:`FakeTelegram` accepting the default token."""
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running :class:`FakeTwilio` with the default account SID and auth token."""
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A running aiosmtpd server without AUTH or TLS."""
    with SmtpSink() as server:
        yield server
