"""The circuit breaker per provider account (scheduler/breaker.py): pure state, then a dispatcher
whose provider fails: after five transient failures the other messages wait, attempts unspent,
and a successful probe closes it."""

from __future__ import annotations

import asyncpg

from platforms.base import Channel, CredentialsRefusedError, TransientError
from scheduler.breaker import Breakers, account_label
from tests import factories
from tests.dispatch.conftest import NOON, Clock
from tests.dispatch.recording import RecordingSender


class Ticks:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_the_threshold_probes_after_the_cooldown_and_closes_on_success() -> None:
    ticks = Ticks()
    breakers = Breakers(threshold=3, cooldown=30, max_cooldown=100, clock=ticks)
    for _ in range(2):
        breakers.failure("sms:+1", "sms")
    assert breakers.wait("sms:+1") == 0.0  # two failures: still closed
    breakers.failure("sms:+1", "sms")
    assert breakers.wait("sms:+1") == 30.0  # open
    assert breakers.wait("telegram:1") == 0.0  # other accounts are not affected
    ticks.now += 30
    assert breakers.wait("sms:+1") == 0.0  # the probe goes
    assert breakers.wait("sms:+1") > 0.0  # ... alone
    breakers.failure("sms:+1", "sms")  # the probe failed: open for twice as long
    assert breakers.wait("sms:+1") == 60.0
    ticks.now += 60
    assert breakers.wait("sms:+1") == 0.0
    breakers.success("sms:+1", "sms")
    assert breakers.wait("sms:+1") == 0.0
    assert breakers.wait("sms:+1") == 0.0  # closed: every send goes


def test_a_send_that_started_before_it_opened_is_no_failed_probe() -> None:
    ticks = Ticks()
    breakers = Breakers(threshold=2, cooldown=10, clock=ticks)
    breakers.failure("a", "sms")
    breakers.failure("a", "sms")  # open for 10 s
    ticks.now += 1
    breakers.failure("a", "sms")  # a send that was already on its way fails too
    assert breakers.wait("a") == 9.0  # still the first cooldown, not doubled
    assert breakers.snapshot() == [
        {"account": "a", "channel": "sms", "state": "open", "failures": 3, "probe_in": 9.0}
    ]
    ticks.now += 9
    assert breakers.snapshot()[0]["state"] == "half_open"
    assert breakers.wait("a") == 0.0  # the probe
    breakers.success("a", "sms")
    assert breakers.snapshot() == []


def test_a_probe_that_never_reports_lets_another_through_after_a_cooldown() -> None:
    ticks = Ticks()
    breakers = Breakers(threshold=1, cooldown=10, clock=ticks)
    breakers.failure("a", "sms")
    ticks.now += 10
    assert breakers.wait("a") == 0.0  # the probe's claim goes back unsent, say
    ticks.now += 10
    assert breakers.wait("a") == 0.0


async def test_an_outage_stops_burning_attempts(
    admin_conn: asyncpg.Connection, make_dispatcher, clock: Clock
) -> None:
    failing = RecordingSender(
        Channel.TELEGRAM, script=[TransientError("502 Bad Gateway") for _ in range(5)]
    )
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: failing}, batch_size=20, concurrency=1)
    patient = await factories.create_patient(admin_conn)
    ids = [
        (await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON))["id"]
        for _ in range(8)
    ]
    await dispatcher.run_once()
    rows = await admin_conn.fetch(
        "select attempts, last_error from scheduled_messages where id = any($1)", ids
    )
    # Five sends failed and count; the breaker opened and the other three waited unsent.
    assert failing.calls == 5
    assert sorted(r["attempts"] for r in rows) == [0, 0, 0, 1, 1, 1, 1, 1]
    waiting = [r for r in rows if r["attempts"] == 0]
    assert all("circuit open" in r["last_error"] for r in waiting)


def test_refused_credentials_open_at_once_and_the_reason_is_kept_until_it_closes() -> None:
    ticks = Ticks()
    breakers = Breakers(threshold=5, cooldown=10, max_cooldown=40, clock=ticks)
    breakers.refused("telegram:123456", "telegram", "Telegram rejected the bot token")
    assert breakers.probe_in("telegram:123456") == 10.0  # open on the first refusal
    assert breakers.wait("telegram:123456") == 10.0
    assert breakers.refusal("telegram:123456") == "Telegram rejected the bot token"
    assert breakers.snapshot()[0]["refused"] == "Telegram rejected the bot token"
    ticks.now += 10
    assert breakers.wait("telegram:123456") == 0.0  # the probe
    breakers.refused("telegram:123456", "telegram", "Telegram rejected the bot token")
    assert breakers.wait("telegram:123456") == 20.0  # still refused: slower
    ticks.now += 20
    assert breakers.wait("telegram:123456") == 0.0
    breakers.success("telegram:123456", "telegram")  # the new token works
    assert breakers.refusal("telegram:123456") == "" and breakers.snapshot() == []


def test_account_labels_hold_no_number_login_or_token() -> None:
    org = "sms:clinic:0b9c2f4e-1d2a-4c3b-9e8f-7a6b5c4d3e2f"
    service = "sms:MG" + "0123456789abcdef" * 2
    assert account_label("sms:+15005550006") == "sms:…0006"
    assert account_label("whatsapp:+15005550006") == "whatsapp:…0006"
    assert account_label("telegram:7123456789") == "telegram:…6789"
    assert account_label("telegram:7123456789:paid") == "telegram:…6789:paid"
    assert account_label("smtp:me@example.org@mail.example.org:587") == "smtp:mail.example.org:587"
    assert account_label(org) == org and account_label(service) == service


async def test_a_refused_token_sends_by_the_next_channel_or_holds_the_message(
    admin_conn: asyncpg.Connection, make_dispatcher, clock: Clock
) -> None:
    """A revoked bot token fails no message: one that may fall back goes by the patient's next
    channel at once; one that may not waits, pending with its attempt unspent, and so does a
    message claimed while the breaker is open (no second call to the refusing provider)."""
    revoked = RecordingSender(
        Channel.TELEGRAM, script=[CredentialsRefusedError("Telegram rejected the bot token")]
    )
    sms = RecordingSender(Channel.SMS)
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: revoked, Channel.SMS: sms}, concurrency=1)
    patient = await factories.create_patient(
        admin_conn, contacts={"telegram": "780", "sms": "+14155550100"}
    )
    only_telegram = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, platform="telegram", allow_fallback=False
    )
    await dispatcher.run_once()
    row = await admin_conn.fetchrow(
        "select status, attempts, last_error from scheduled_messages where id = $1",
        only_telegram["id"],
    )
    assert row["status"] == "pending" and row["attempts"] == 0
    assert row["last_error"].startswith(
        "telegram: the provider refused the account's credentials (Telegram rejected the bot"
        " token); waiting until they work again"
    )
    either = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    await dispatcher.run_once()
    row = await admin_conn.fetchrow(
        "select status, channel_used, last_error from scheduled_messages where id = $1",
        either["id"],
    )
    assert (row["status"], row["channel_used"]) == ("sent", "sms")
    assert "refused the account's credentials" in row["last_error"]
    assert "waiting" not in row["last_error"]  # it went: the note says why by SMS
    assert revoked.calls == 1  # the breaker held the second message off the refusing provider
