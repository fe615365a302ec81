"""A circuit breaker per provider account (a bot, a Twilio sender, an SMTP server), fleet-wide.

In a provider outage every message would otherwise burn its attempts on its own. After
``threshold`` consecutive transient failures (5xx, timeouts, connection errors) on an account the
breaker opens: sends to it wait (the dispatcher puts their rows back to pending until the breaker
may let a probe through, without counting an attempt). After ``cooldown`` one probe goes
(half-open): a success closes the breaker, a failure opens it again for twice as long (up to
``max_cooldown``). Permanent errors (one recipient's) and rate limits do not count: they say
nothing about the account's health. The provider refusing the account's credentials (a revoked
bot token: :class:`~platforms.base.CredentialsRefusedError`) opens it at once (:meth:`refused`):
every send would fail the same way until a person replaces them, so its messages wait, and a probe
every cooldown (doubling) finds out when the credentials work again.

Each change of state is one log line (never one per send): ``circuit breaker opened`` (WARNING)
and ``circuit breaker closed`` (INFO), naming the channel and :func:`account_label` (the account
key without a phone number or login; a bot's id, a Twilio messaging service, a clinic's id).

Shared by the fleet (:mod:`scheduler.fleet_breakers`, when a process attaches one): an opening
here is written to ``provider_breakers`` and every other worker and web process holds the
account's sends too from its next read (about a second); the probe after each cooldown goes from
the one process the table grants it to (:meth:`Breakers.wait` lets a send through only with that
grant), and its success closes the breaker everywhere. A process that learns of an opening or a
closing from the table logs it at INFO (``circuit breaker held for the fleet``, ``... closed by
the fleet``): the WARNING is the opener's alone. Unattached (tests, one process) the state is
this process's only, as before.

``medremind_breaker_open{channel}`` shows the state on the worker's own ``/metrics``; each
heartbeat carries :meth:`Breakers.snapshot` (``worker_heartbeats.breakers``), from which the
web's ``/metrics`` (``medremind_fleet_breaker_open``) shows the fleet's; ``medremind check``
prints the open ones from ``provider_breakers`` (one line each, whoever holds it).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from platforms.base import DeliveryError
from scheduler import metrics

DEFAULT_THRESHOLD = 5
DEFAULT_COOLDOWN_SECONDS = 30.0
DEFAULT_MAX_COOLDOWN_SECONDS = 300.0
# Shared by the fleet: a send due for the probe that this process has not been granted (yet)
# waits this long; the grant comes at the next read of the table (about a second).
PROBE_GRANT_WAIT_SECONDS = 1.0

logger = logging.getLogger(__name__)

# Account keys that are identifiers only: a clinic's own account (its organization's id), a Twilio
# messaging service SID. Others hold a sender's number, an SMTP login, a bot's id (which the log
# filter would scrub as a phone number anyway): their label keeps only the last four characters.
_IDENTIFIER_KEY = re.compile(r"[a-z]+:(clinic:[0-9a-f-]{36}|MG[0-9a-fA-F]{32})")


def account_label(account: str) -> str:
    """``account`` (a breaker's key) as log lines name it: no phone number, login or token.

    ``sms:+15005550006`` -> ``sms:…0006``, ``telegram:123456789`` -> ``telegram:…6789``,
    ``smtp:me@example.org@mail.example.org:587`` -> ``smtp:mail.example.org:587``.
    """
    if _IDENTIFIER_KEY.fullmatch(account):
        return account
    channel, _, rest = account.partition(":")
    if channel == "smtp":
        return f"smtp:{rest.rsplit('@', 1)[-1]}"  # the server, without the login
    ident, paid, _ = rest.partition(":paid")
    return f"{channel}:…{ident[-4:]}{paid}"


class BreakerHeldError(DeliveryError):
    """A send not made: the account's circuit breaker is open (the provider refuses its
    credentials, or keeps failing). The message waits for the dispatcher, which sends it after
    the breaker's probe, attempts unspent; the text says why, without a secret."""


def held_reason(channel: str, refused: str) -> str:
    """``last_error`` of a message an open breaker holds (the dispatcher's words)."""
    why = (
        f"the provider refused the account's credentials ({refused})"
        if refused
        else "the provider keeps failing"
    )
    return f"{channel}: {why}; waiting until it works again (circuit open), attempts unspent"


@dataclass(slots=True)
class _State:
    channel: str = ""
    failures: int = 0  # consecutive transient failures
    open_until: float = 0.0  # 0: closed
    cooldown: float = 0.0
    probe_until: float = 0.0  # half-open: a probe is out until then (its answer decides)
    opened_at: float = 0.0
    refused: str = ""  # why the provider refused the account's credentials, when it did
    fleet: bool = False  # the fleet's table has it open (written from here or read there)
    probe_grant_until: float = 0.0  # the table granted this process the probe, until then
    wanted: bool = False  # a send waits for a probe the table has not granted this process


class Breakers:
    """One worker's breakers by account key; ``clock``: ``time.monotonic`` (tests inject one)."""

    def __init__(
        self,
        threshold: int = DEFAULT_THRESHOLD,
        cooldown: float = DEFAULT_COOLDOWN_SECONDS,
        max_cooldown: float = DEFAULT_MAX_COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.max_cooldown = max_cooldown
        self.clock = clock
        self._states: dict[str, _State] = {}
        # Shared by the fleet (scheduler.fleet_breakers): probes need the table's grant, and the
        # changes below wait for the next write to it.
        self.shared = False
        self._opened: dict[str, dict[str, Any]] = {}  # account -> its opening, to write
        self._closed: set[str] = set()  # accounts closed here, to delete

    def wait(self, account: str) -> float:
        """0 when a send to ``account`` may go now (closed, or the half-open probe), else seconds
        until the breaker lets a probe through."""
        state = self._states.get(account)
        if state is None or state.open_until == 0.0:
            return 0.0
        now = self.clock()
        if now < state.open_until:
            return state.open_until - now
        if now < state.probe_until:
            return state.probe_until - now  # the probe's answer decides
        if self.shared:
            if now >= state.probe_grant_until:
                state.wanted = True  # asked for at the next exchange with the fleet's table
                return PROBE_GRANT_WAIT_SECONDS
            state.probe_grant_until = 0.0  # spent on this send
        # Half-open: this send is the probe. One that never reports (its claim went back
        # unsent) lets another through after a cooldown.
        state.probe_until = now + self.cooldown
        return 0.0

    def success(self, account: str, channel: str) -> None:
        """A send to ``account`` succeeded (or failed for its recipient only): close."""
        state = self._states.get(account)
        if state is not None and (state.failures or state.open_until):
            if state.open_until:
                self._log_closed(account, channel, state, "")
                if self.shared:
                    self._opened.pop(account, None)
                    self._closed.add(account)
            self._states.pop(account)

    def _log_closed(self, account: str, channel: str, state: _State, how: str) -> None:
        """Open -> closed: the metric and the one log line it gets (``how``: " by the fleet"
        when another process's probe closed it)."""
        metrics.BREAKER_OPEN.labels(channel).set(0)
        logger.info(
            "circuit breaker closed%s: the provider answers again",
            how,
            extra={
                "channel": channel,
                "account": account_label(account),
                "open_seconds": round(self.clock() - state.opened_at, 1),
            },
        )

    def failure(self, account: str, channel: str) -> None:
        """A send to ``account`` failed transiently: count; open at the threshold."""
        state = self._states.setdefault(account, _State(channel))
        state.failures += 1
        if state.open_until:
            if not state.probe_until:
                return  # a send that started before the breaker opened: no probe's answer
            # The half-open probe failed: open again, for longer.
            state.cooldown = min(self.max_cooldown, state.cooldown * 2)
        elif state.failures >= self.threshold:
            self._open(account, state, "the provider keeps failing")
        else:
            return
        state.open_until = self.clock() + state.cooldown
        state.probe_until = 0.0
        self._share(account, state)

    def refused(self, account: str, channel: str, reason: str) -> None:
        """The provider refused ``account``'s credentials (``reason``, no secret in it): open at
        once, or again for twice as long when this was the probe's answer."""
        state = self._states.setdefault(account, _State(channel))
        state.failures += 1
        state.refused = reason
        if state.open_until:
            if not state.probe_until:
                return  # a send that started before the breaker opened
            state.cooldown = min(self.max_cooldown, state.cooldown * 2)
        else:
            self._open(account, state, "the provider refused the account's credentials")
        state.open_until = self.clock() + state.cooldown
        state.probe_until = 0.0
        self._share(account, state)

    def probe_in(self, account: str) -> float:
        """Seconds until ``account``'s breaker lets a probe through; 0 when closed or due. Unlike
        :meth:`wait`, it sends no probe."""
        state = self._states.get(account)
        return max(0.0, state.open_until - self.clock()) if state is not None else 0.0

    def is_open(self, account: str) -> bool:
        """Whether ``account``'s breaker is open or half-open (no probe is let through)."""
        state = self._states.get(account)
        return state is not None and bool(state.open_until)

    def refusal(self, account: str) -> str:
        """Why the provider refused ``account``'s credentials, while its breaker is not closed
        for that reason; "" otherwise."""
        state = self._states.get(account)
        return state.refused if state is not None and state.open_until else ""

    def _open(self, account: str, state: _State, why: str) -> None:
        """Closed -> open: the first cooldown, the metrics, and the one log line it gets."""
        state.cooldown = self.cooldown
        state.opened_at = self.clock()
        metrics.BREAKER_OPENED.labels(state.channel).inc()
        metrics.BREAKER_OPEN.labels(state.channel).set(1)
        logger.warning(
            "circuit breaker opened: %s; sends to the account wait for its probe",
            why,
            extra={
                "channel": state.channel,
                "account": account_label(account),
                "failures": state.failures,
                "probe_in_seconds": state.cooldown,
            },
        )

    def _share(self, account: str, state: _State) -> None:
        """Opened or opened again here: written to the fleet's table at the next exchange."""
        if not self.shared:
            return
        self._closed.discard(account)
        state.fleet = True
        self._opened[account] = {
            "account": account,
            "channel": state.channel,
            "cooldown": state.cooldown,
            "failures": state.failures,
            "refused": state.refused,
        }

    def changes(self) -> tuple[list[dict[str, Any]], list[str], list[str]]:
        """What the next exchange with the fleet's table takes, and forgets here: the breakers
        opened since the last (:meth:`_share`'s records), those closed, and the accounts whose
        sends wait for a probe this process has not been granted."""
        opened, closed = list(self._opened.values()), sorted(self._closed)
        self._opened, self._closed = {}, set()
        wanted = []
        for account, state in self._states.items():
            if state.wanted:
                state.wanted = False
                wanted.append(account)
        return opened, closed, wanted

    def unsent(self, opened: Iterable[Mapping[str, Any]], closed: Iterable[str]) -> None:
        """An exchange that failed (the database away): its changes go with the next one,
        unless this process changed the same breaker again since."""
        for record in opened:
            if record["account"] not in self._closed:
                self._opened.setdefault(record["account"], dict(record))
        for account in closed:
            if account not in self._opened and account not in self._states:
                self._closed.add(account)

    def adopt(self, rows: Iterable[Mapping[str, Any]], me: str) -> None:
        """Take the fleet's open breakers (``provider_breakers_sync``'s rows; ``me``: this
        process's name in them): hold each account here too, until its cooldown ends or the
        probe out ends (this process's own, when the table granted it), and close the breakers
        the table no longer has (another process's probe succeeded)."""
        now = self.clock()
        seen = set()
        for row in rows:
            account = row["account"]
            seen.add(account)
            if account in self._closed or account in self._opened:
                continue  # changed here during the exchange: the next one writes it
            state = self._states.get(account)
            if state is None or not state.open_until:
                state = self._states.setdefault(account, _State(row["channel"]))
                self._held_for_fleet(account, state, row)
            state.fleet = True
            state.cooldown = max(state.cooldown, row["cooldown_seconds"])
            state.refused = row["refused"] or state.refused
            if now < state.probe_until:
                continue  # this process's probe is out: its answer decides
            if row["probe_by"] == me and row["probe_in"] > 0:
                state.open_until = now  # the probe is this process's: the next send is it
                state.probe_grant_until = now + row["probe_in"]
            elif row["probe_in"] > 0:
                state.open_until = now + row["probe_in"]  # another's probe is out
            elif row["open_in"] > 0:
                state.open_until = now + row["open_in"]
        for account, state in list(self._states.items()):
            if state.fleet and account not in seen and account not in self._opened:
                self._closed_by_fleet(account, state)

    def _held_for_fleet(self, account: str, state: _State, row: Mapping[str, Any]) -> None:
        """Closed here, open in the fleet's table: held here too, said once at INFO."""
        state.cooldown = row["cooldown_seconds"]
        state.failures = max(state.failures, row["failures"])
        state.opened_at = self.clock()
        state.open_until = state.opened_at + max(row["open_in"], 0.0)
        metrics.BREAKER_OPEN.labels(state.channel).set(1)
        logger.info(
            "circuit breaker held for the fleet: another process opened it",
            extra={
                "channel": state.channel,
                "account": account_label(account),
                "probe_in_seconds": round(max(row["open_in"], 0.0), 1),
            },
        )

    def _closed_by_fleet(self, account: str, state: _State) -> None:
        """Open here, gone from the fleet's table: another process's probe succeeded."""
        self._log_closed(account, state.channel, state, " by the fleet")
        self._states.pop(account)

    def snapshot(self) -> list[dict[str, Any]]:
        """The breakers not closed now, for the heartbeat: account key (a bot's id, a sender, an
        SMTP server: no patient data), channel, ``open`` or ``half_open`` (a probe may go or is
        out), consecutive failures, seconds until a probe may go (0 when half-open), and
        ``refused`` (why) when the provider refused the account's credentials."""
        now = self.clock()
        return [
            {
                "account": account,
                "channel": state.channel,
                "state": "open" if now < state.open_until else "half_open",
                "failures": state.failures,
                "probe_in": round(max(0.0, state.open_until - now), 1),
                **({"refused": state.refused} if state.refused else {}),
            }
            for account, state in sorted(self._states.items())
            if state.open_until
        ]
