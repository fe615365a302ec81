"""Wire-level fakes of the services MedRemind talks to, for tests in every package.

- :class:`~tests.fakes.fake_telegram.FakeTelegram`: a loopback Bot API server.
- :class:`~tests.fakes.fake_twilio.FakeTwilio`: a loopback Twilio REST API (Messages).
- :class:`~tests.fakes.smtp.SmtpSink`: a real aiosmtpd SMTP server that keeps what it receives.
- :mod:`tests.fakes.fixtures`: pytest fixtures for all three; import the ones you use.

Each server runs in a background thread, so it works from sync and async tests alike
(``with FakeTelegram() as tg`` or ``async with FakeTelegram() as tg``).
"""

from tests.fakes.fake_telegram import FakeTelegram, TelegramCall
from tests.fakes.fake_twilio import FakeTwilio, TwilioCall
from tests.fakes.smtp import SmtpSink

__all__ = ["FakeTelegram", "FakeTwilio", "SmtpSink", "TelegramCall", "TwilioCall"]
