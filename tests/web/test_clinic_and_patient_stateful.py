"""The clinic, the patient and the worker at once, through the product's own doors.

The other stateful machines (tests/bot/*_stateful.py, tests/dispatch/test_claim_cache_stateful.py)
drive the bot engine or a claim session in process, with recording senders. This one drives what
a clinic and a patient really touch: the clinician's HTTP API (create the patient, import a
FHIR MedicationRequest, mark a medicine time-critical, book, move and cancel appointments,
schedule a message (refused when due within 15 minutes and no channel reaches the patient,
accepted later with a warning), change the patient's quiet hours, time zone and channel order), the
dashboard's direct writes (pause or delete a medicine, as a signed-in clinician under RLS), the
patient's messages through the web app's webhooks (Telegram with its secret, Twilio SMS and
WhatsApp signed, a WhatsApp quick reply pressed as Twilio posts it: ButtonPayload, ButtonText),
and the worker's planner tick and dispatcher sending through the real adapters to the loopback
Telegram and Twilio. One injected clock drives the web app and the worker; it starts near a
clock change or a midnight in the patient's zone (Berlin, New York, Tokyo) and moves by steps
of minutes to hours, each with worker passes as a worker running every minute would make them
(at every pending message's time and at least every quarter of an hour), or after a worker
that was down for hours.

Every patient has a phone the clinic typed; a Telegram patient also links their chat by the
clinic's invite link (channel order Telegram, then SMS), and may text from the phone too; a
WhatsApp patient (channel order WhatsApp, then SMS) writes there first, which opens WhatsApp's
24-hour window: reminders then come with Taken / Snooze 15 min / Skip buttons (the senders are
the processes', with the window and the quick-reply contents read from Postgres, the window
measured on the one clock: the web app stores the inbound times by it). When the patient writes
nothing there for a day the window closes: nothing free-form reaches WhatsApp after it, and
reminders come by SMS, the patient's next channel (no approved template is configured here).

Invariants, from the patient's side and the clinic's, after every step:

* nothing but medication reminders, their follow-ups and the bot's replies reaches the patient
  in their quiet hours (the follow-ups' own rule: planned outside them unless the reminder they
  follow was due inside them; docs/delivery.md "Quiet hours") but an appointment message the
  window would have held until less than an hour before the appointment (it goes then), and
  no appointment message but its cancellation after the appointment began;
* nothing medication-related reaches a paused patient, nor their caregiver about them;
* nothing reaches the phone after its STOP but the confirmation, until START; its words
  answer nothing meanwhile; nothing of the worker's reaches a Telegram chat after its /stop (its
  SMS may still serve), and its words and buttons answer nothing, until /start; the same for
  WhatsApp after STOP there, and its buttons are not even answered (a keyword channel);
* a WhatsApp button, pressed on the reminder as it comes, on the newest message about a dose
  or visit, on an older one, after /pause or after STOP, changes only the dose or visit it
  names, with its meaning (Taken and Skip count late and on a paused medicine; a snooze is
  refused while paused, for a stopped medicine, or more than 12 hours after the dose's time), and
  is answered by one message that says what was recorded or why nothing was ("already recorded
  as", "Your reminders are paused", "no longer in your list", "no longer active", "too late to
  snooze");
* the earlier sequence's patient, erased by the clinic, writes again ("taken", "/today") from
  each chat they had: they hear nothing of their record (name, medicines, times), and nothing
  is recorded against it (no row of any table names it, the tombstone is unchanged);
* a dose is reminded at most once, and once more per snooze;
* a typed answer ("1", "C", "taken", "confirm") changes at most one dose or appointment: the one
  of the newest open question that chat showed with that answer (an SMS menu's number or word,
  "Reply 1 or C", a Telegram button's label, or the answer's usual word whatever the label says:
  "skip" to a follow-up's "Skipped"; a button's reply that edits its message shows its own; a
  question stays open when a newer one about its dose comes (the router reads the ten newest
  open questions: "skip" after a snooze's reply, Taken and Snooze, is the reminder's Skip); an
  answered one or one asked 12 hours ago is closed, an appointment that began is not asked
  about), with that answer's meaning (a snooze while paused, or 12 hours after the dose's time,
  is refused); not checked when a dialog question is newer, or when two open questions went out
  in one pass (one instant: which the phone shows last is not known);
  a Telegram button changes only the dose or appointment it names;
* a dose past its missed mark (counted from its reminder, or from when that left late) with a
  worker pass since is taken, skipped, missed, cancelled or unreachable, never still waiting; a
  missed dose alerts the caregiver at most once, and only about a dose that was reminded;
* no row points across clinics, and the other clinic's API key sees none of the patient.

It found that moving a patient west after a day's reminder planned that date's dose again with
no reminder, 'due' forever (tests/planner/test_materialize.py::test_moving_west_...), and that
"confirm" typed to an SMS appointment reminder ("Reply 1 or C to confirm") confirmed another,
older appointment (tests/web/test_answer_router.py::test_confirm_typed_to_an_appointment_...),
and that a reminder expired unsent (a worker down) still alerted the caregiver that the patient
had not confirmed it (tests/planner/test_followups.py::test_a_dose_whose_reminder_never_...).
Its "'skip' changed a dose, not the question it answered (None)" was the model's: it did not know
the usual words (bot.routing.ANSWER_WORDS), nor that a snooze's reply keeps Taken; so was, at
300 sequences of 60 steps, "'skip' changed a dose ... (None)" after a snooze refused as too late:
the model closed a dose's older questions when a newer one came, the router keeps them open
until answered (the refusal's question shows Taken alone; "skip" went on to the follow-up's
Skip, as documented: docs/delivery.md "Questions"). Its WhatsApp
buttons found nothing wrong; reading the one-statement press for them showed that it lifted a
blocked chat's block without the general turn's catch-up
(tests/bot/test_unreachable_return.py::test_a_press_that_lifts_the_block_catches_up_first).

``MEDREMIND_STATEFUL_EXAMPLES`` and ``MEDREMIND_STATEFUL_STEPS`` make the search bigger (and
random); by default 8 sequences of 30 steps, derandomized.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bot import texts
from core.answer_buttons import parse_dose_data
from core.db import Database
from core.settings import Settings
from scheduler.planner import run_planner_tick
from scheduler.planning_rules import in_quiet_hours
from scheduler.quiet_hours import quiet_window_end
from tests import factories
from tests.bot.test_answer_router_stateful import _call, settings_for_run, usual_words
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio, TwilioCall
from tests.integration.clinician import as_clinician
from tests.web.chat import telegram_press, telegram_text, twilio_inbound, worker
from tests.web.conftest import Clock

T = TypeVar("T")
M = TypeVar("M")
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe", "Asia/Kolkata")
# A caregiver's own zone (None: the patient's), for their quiet hours: half-hour offsets included.
CAREGIVER_ZONES = (None, "Australia/Sydney", "Asia/Kolkata", "America/St_Johns")
# Shortly before something happens to a clock somewhere: Berlin springs forward at 01:00 UTC on
# 28 March 2027, New York falls back at 06:00 UTC on 1 November 2026 and springs forward at
# 07:00 UTC on 14 March 2027; midnight in Berlin on 4 December 2026; 07:40 in Tokyo.
STARTS = (
    datetime(2027, 3, 27, 23, 35, tzinfo=UTC),
    datetime(2026, 11, 1, 3, 40, tzinfo=UTC),
    datetime(2027, 3, 14, 5, 50, tzinfo=UTC),
    datetime(2026, 12, 3, 22, 50, tzinfo=UTC),
    datetime(2026, 12, 3, 22, 25, tzinfo=UTC),
    # Lord Howe springs forward by half an hour at 15:30 UTC on 3 October 2026; Kolkata's
    # midnight is 18:30 UTC.
    datetime(2026, 10, 3, 15, 5, tzinfo=UTC),
    datetime(2026, 12, 3, 18, 10, tzinfo=UTC),
)
QUIET = (("00:00", "00:00"), ("22:00", "07:00"), ("23:30", "06:30"), ("13:00", "15:00"))
FIXED_TIMES = ("00:10", "02:30", "06:45", "07:05", "21:55")
MEDICATION_KINDS = frozenset({"medication_reminder", "dose_followup"})
OPEN_DOSE = frozenset({"due", "snoozed"})
ANSWERED = frozenset({"taken", "skipped", "snoozed"})
OPEN_APPOINTMENT = frozenset({"scheduled", "confirmed", "reschedule_requested"})
MIN = datetime.min.replace(tzinfo=UTC)
CHANNELS = ("telegram", "sms", "whatsapp")  # where a patient first joins
QUESTION_TTL = timedelta(hours=12)  # core.answer_buttons.QUESTION_TTL
WHATSAPP_WINDOW = timedelta(hours=24)  # platforms.whatsapp.SESSION_WINDOW
OPEN_QUESTIONS_READ = 10  # the router reads a chat's ten newest open questions (bot.sql)
TYPED = ("1", "2", "3", "C", "c", "Taken", "skip", "snooze", "confirm", "hello")
# What a typed answer means to the question it answers (a number: its option; the word: itself).
MEANING = {
    "1": {"dose": "taken", "appointment": "confirmed"},
    "taken": {"dose": "taken"},
    "skip": {"dose": "skipped"},
    "snooze": {"dose": "snoozed"},
    "2": {"dose": "snoozed", "appointment": "reschedule_requested"},
    "3": {"dose": "skipped", "appointment": "cancelled"},
    "c": {"appointment": "confirmed"},
    "confirm": {"appointment": "confirmed"},
}
_addresses = itertools.count(1)


@dataclass
class World:
    """What every sequence shares: the loop, the app's client, the fakes, the one clock."""

    loop: asyncio.AbstractEventLoop
    db: Database
    settings: Settings
    senders: dict[Any, Any]
    web: httpx.AsyncClient
    admin: asyncpg.Connection
    telegram: FakeTelegram
    twilio: FakeTwilio
    clock: Clock
    auth: dict[str, str]
    other_auth: dict[str, str]
    org_id: UUID
    clinician_id: UUID
    stats: Counter[str] = field(default_factory=Counter)

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine on the test's loop from the state machine's thread."""
        return asyncio.run_coroutine_threadsafe(_call(work), self.loop).result(timeout=180)


@dataclass
class Received:
    """One message the patient's phone showed: what it asks about and the answers it shows."""

    channel: str
    entity: UUID | None  # the dose or appointment it asks about
    kind: str  # "dose", "appointment", "dialog" (a bot question) or "none"
    at: datetime
    typed: frozenset[str] = frozenset()  # folded answers it shows
    closed: bool = False  # answered, or a newer question asks about its dose or appointment
    sent_at: datetime | None = None  # as the worker recorded it (the question's asked_at)
    asked: datetime = MIN  # when it was asked (its 12 hours count from then); MIN: never
    # What a typed answer means here where that is not MEANING's: a snooze's reply numbers
    # Taken, Snooze 30 min, Snooze 60 min ("3" snoozes), not Taken, Snooze, Skip.
    meanings: dict[str, str] = field(default_factory=dict)


def _en(key: str) -> str:
    """The bot's English text ``key`` (the machine's patients speak English)."""
    return texts.text("en", key)


def _shown_text(call: TwilioCall) -> str:
    """What a Twilio message showed: its body, or a quick reply's rendered body."""
    if call.body is not None:
        return call.body
    return str((call.rendered or {}).get("body") or "")


def _fold(text: str) -> str:
    return " ".join(text.strip().lower().split())


def _word_answers(data: list[str]) -> frozenset[str]:
    """The usual words a question takes whatever its labels read (a follow-up's "Skipped"
    takes "skip", an appointment's "I'll be there" "confirm"): of an answer only when no other
    of the question's answers has the same word, or when all that have it snooze one dose (a
    snooze's reply, "Snooze 30 min" and "Snooze 60 min": "snooze" is its default length,
    bot.routing's _default_snooze)."""
    having: dict[str, set[str]] = {}
    for d in data:
        for word in usual_words(d):
            having.setdefault(word, set()).add(d)
    return frozenset(
        word
        for word, answers in having.items()
        if len(answers) == 1 or _snoozes_of_one_dose(answers)
    )


def _snoozes_of_one_dose(answers: set[str]) -> bool:
    """Whether every answer (``d:<hex>:s30``) is a Snooze, of any length, of one dose."""
    parts = [answer.split(":") for answer in answers]
    return all(p[0] == "d" and p[2][:1] == "s" for p in parts) and len({p[1] for p in parts}) == 1


def _shown_answers(text: str, labels: list[str]) -> frozenset[str]:
    """What a patient may type to pick one of the options shown: an SMS menu's numbered lines
    ("1 Taken") or "Reply 1 or C to confirm, 2 or R ...", a button's label or its first word.
    A number inside a sentence ("medicine 1") is not an option."""
    shown: set[str] = set()
    options = re.findall(r"(?m)^\s*(\d)\W{0,2}\s+([A-Za-z][\w ]*)$", text)
    for number, letter, word in re.findall(r"\b(\d) or ([A-Z]) to (\w+)", text):
        options += [(number, letter), (number, word)]
    for number, label in options:
        labels = [*labels, label]
        shown.add(number)
    firsts = Counter(_fold(label).split(" ")[0] for label in labels)
    for label in labels:
        shown.add(_fold(label))
        if firsts[_fold(label).split(" ")[0]] == 1:  # "snooze" of two Snooze buttons is neither
            shown.add(_fold(label).split(" ")[0])
    return frozenset(shown)


def machine_for(world: World, channels: tuple[str, ...] = CHANNELS) -> type[RuleBasedStateMachine]:
    """The state machine class over ``world``, its patients joining by one of ``channels``."""

    class Product(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.patient_id: UUID | None = None
            # Where the patient first joined: SMS, Telegram by invite, or WhatsApp (the clinic
            # typed the phone for it, and the patient wrote there first).
            self.channel = "sms"
            self.phone = ""  # every patient has a phone the clinic typed
            self.chat = 0  # a Telegram patient's chat
            self.caregiver = ""
            self.caregiver_zone: str | None = None
            self.zone = "UTC"
            self.medicines: list[UUID] = []
            self.appointments: list[UUID] = []
            self.received: list[Received] = []
            self.seen_rows: set[UUID] = set()
            self.tg_seen = len(world.telegram.sent_messages)
            # The answer buttons (label, data) of the messages the chat got, as read.
            self.tg_buttons: list[tuple[str, str]] = []
            self.sms_seen = len(world.twilio.messages)
            self.snoozes: Counter[UUID] = Counter()
            self.reminded: Counter[UUID] = Counter()
            self.alerted: Counter[UUID] = Counter()
            self.stopped = False  # the patient's SMS STOP, not yet undone by START
            self.tg_stopped: datetime | None = None  # since the chat's /stop, until /start
            self.wa_stopped: datetime | None = None  # since STOP on WhatsApp, until START
            # When the patient last wrote on WhatsApp (a text or a button), by the one clock:
            # free-form messages and buttons go there only within 24 hours of it.
            self.wa_wrote: datetime | None = None
            # WhatsApp messages with reminder or appointment buttons, as the phone shows them:
            # (what they ask about, their buttons (title, id)), oldest first.
            self.wa_buttons: list[tuple[UUID, list[tuple[str, str]]]] = []
            self.paused = False
            self.last_pass: datetime | None = None
            self.last_read = MIN  # when the phone was last read
            self._snoozes_seen: set[tuple[UUID, datetime]] = set()
            world.stats["sequences"] += 1

        # -- set-up ----------------------------------------------------------------------------

        @initialize(
            channel=st.sampled_from(channels),
            zone=st.sampled_from(ZONES),
            start=st.sampled_from(STARTS),
            quiet=st.sampled_from(QUIET),
            caregiver_zone=st.sampled_from(CAREGIVER_ZONES),
        )
        def patient(
            self,
            channel: str,
            zone: str,
            start: datetime,
            quiet: tuple[str, str],
            caregiver_zone: str | None,
        ) -> None:
            world.clock.now = start
            self.channel, self.zone, self.caregiver_zone = channel, zone, caregiver_zone
            n = next(_addresses)
            self.chat = 760_000_000 + n
            self.phone = f"+1415557{n:04d}"
            self.caregiver = f"+1415558{n:04d}"
            world.run(lambda: self._create(quiet))

        async def _create(self, quiet: tuple[str, str]) -> None:
            await self._erase_earlier()
            body: dict[str, Any] = {
                "display_name": "Ana",
                "timezone": self.zone,
                "locale": "en",
                "consent": True,
            }
            order = {"sms": ["sms"], "telegram": ["telegram", "sms"]}.get(
                self.channel, ["whatsapp", "sms"]
            )
            body |= {"phone": self.phone, "channel_order": order}
            created = await world.web.post("/api/v1/patients", json=body, headers=world.auth)
            assert created.status_code == 201, created.text
            self.patient_id = UUID(created.json()["id"])
            if self.channel == "telegram":
                await self._join_by_invite()
            elif self.channel == "whatsapp":
                # Free-form messages and buttons go only to a number that wrote within 24 hours
                # (platforms/whatsapp.py); the patient's first message binds the chat to them.
                await self._inbound("hello", "whatsapp")
            await self._set_quiet(quiet)
            await self._add_medicine(2, None)  # every sequence has a dose a few minutes ahead
            await world.admin.execute(
                "insert into caregivers"
                " (patient_id, name, channel, address, alert_delay_minutes, timezone)"
                " values ($1, 'Luis', 'sms', $2, 0, $3)",
                self.patient_id,
                self.caregiver,
                self.caregiver_zone,
            )
            await self._observe()

        async def _erase_earlier(self) -> None:
            """Earlier sequences' patients are erased (the clinic's DELETE): their rows would
            otherwise go out when this sequence's clock passes their times again."""
            rows = await world.admin.fetch(
                "select id from patients where organization_id = $1 and status <> 'deleted'",
                world.org_id,
            )
            for row in rows:
                contacts = await world.admin.fetch(
                    "select channel, address from contact_points where patient_id = $1", row["id"]
                )
                gone = await world.web.delete(f"/api/v1/patients/{row['id']}", headers=world.auth)
                assert gone.status_code == 200, gone.text
                await self._erased_writes(row["id"], contacts)

        async def _erased_writes(self, erased: UUID, contacts: list[asyncpg.Record]) -> None:
            """The erased patient writes again, an answer and a command, from each chat they
            had: they hear nothing of their old record, and nothing is recorded against it."""
            before = await self._rows_naming(erased)
            tg, sms = len(world.telegram.sent_messages), len(world.twilio.messages)
            for contact in contacts:
                for text in ("taken", "/today"):
                    if contact["channel"] == "telegram":
                        await telegram_text(world.web, int(contact["address"]), text)
                    elif contact["channel"] == "sms":
                        await twilio_inbound(world.web, contact["address"], text)
                    elif contact["channel"] == "whatsapp":
                        await twilio_inbound(world.web, f"whatsapp:{contact['address']}", text)
                    world.stats["erased patient writes"] += 1
            heard = [c.text or "" for c in world.telegram.sent_messages[tg:]]
            heard += [_shown_text(m) for m in world.twilio.messages[sms:]]
            world.stats["erased patient heard"] += len(heard)
            for text in heard:
                # The name, the medicines ("Medicine 1"), a dose's or a visit's time.
                assert not re.search(r"Ana|[Mm]edicine \d|\d:\d\d", text), (
                    f"an erased patient was told: {text!r}"
                )
            assert await self._rows_naming(erased) == before, "recorded against an erased patient"

        async def _rows_naming(self, patient_id: UUID) -> dict[str, Any]:
            """Rows naming ``patient_id`` in every table with a ``patient_id``, by table (the
            tombstone itself, ``patients``, by its columns)."""
            tables = await world.admin.fetch(
                "select table_name from information_schema.columns where table_schema = 'public'"
                " and column_name = 'patient_id' and table_name in (select table_name from"
                " information_schema.tables where table_type = 'BASE TABLE')"
            )
            found = {
                t["table_name"]: await world.admin.fetchval(
                    f'select count(*) from public."{t["table_name"]}" where patient_id = $1',
                    patient_id,
                )
                for t in tables
            }
            tombstone = await world.admin.fetchrow(
                "select * from patients where id = $1", patient_id
            )
            found["patients"] = dict(tombstone)
            return found

        async def _join_by_invite(self) -> None:
            invite = await world.web.post(
                f"/api/v1/patients/{self.patient_id}/invites", headers=world.auth
            )
            assert invite.status_code == 201, invite.text
            await telegram_text(world.web, self.chat, f"/start {invite.json()['token']}")
            for _ in range(6):
                step = await world.admin.fetchval(
                    "select step from conversations where channel = 'telegram'"
                    " and chat_address = $1",
                    str(self.chat),
                )
                if step in (None, "idle"):
                    break
                last = [c for c in world.telegram.sent_messages if c.chat_id == self.chat][-1]
                buttons = [(label, data) for row in last.buttons() for label, data in row]
                assert buttons, (step, last.text)
                # Agree, skip what is optional, and keep Telegram first.
                chosen = [d for label, d in buttons if label.startswith(("I agree", "Telegram"))]
                await telegram_press(world.web, self.chat, (chosen or [buttons[0][1]])[0])
            linked = await world.admin.fetchval(
                "select count(*) from contact_points where patient_id = $1"
                " and channel = 'telegram'",
                self.patient_id,
            )
            assert linked == 1, "the invite did not link the chat"

        async def _set_quiet(self, quiet: tuple[str, str]) -> None:
            changed = await world.web.patch(
                f"/api/v1/patients/{self.patient_id}",
                json={"quiet_start": quiet[0], "quiet_end": quiet[1]},
                headers=world.auth,
            )
            assert changed.status_code == 200, changed.text

        # -- the clinic ------------------------------------------------------------------------

        @precondition(lambda self: len(self.medicines) < 3)
        @rule(
            minutes_ahead=st.sampled_from([2, 9, 31, 130]),
            fixed=st.sampled_from((None, *FIXED_TIMES)),
        )
        def clinic_adds_medicine(self, minutes_ahead: int, fixed: str | None) -> None:
            world.run(lambda: self._add_medicine(minutes_ahead, fixed))

        async def _add_medicine(self, minutes_ahead: int, fixed: str | None) -> None:
            local = (world.clock.now + timedelta(minutes=minutes_ahead)).astimezone(
                ZoneInfo(self.zone)
            )
            wall = fixed or local.strftime("%H:%M")
            resource = {
                "resourceType": "MedicationRequest",
                "status": "active",
                "subject": {"reference": f"Patient/{self.patient_id}"},
                "medicationCodeableConcept": {"text": f"Medicine {len(self.medicines) + 1}"},
                "dosageInstruction": [
                    {
                        "timing": {
                            "repeat": {
                                "frequency": 1,
                                "period": 1,
                                "periodUnit": "d",
                                "timeOfDay": [f"{wall}:00"],
                            }
                        }
                    }
                ],
            }
            response = await world.web.post(
                "/api/v1/fhir/MedicationRequest",
                json=resource,
                headers={**world.auth, "content-type": "application/fhir+json"},
            )
            assert response.status_code == 201, response.text
            self.medicines.append(UUID(response.json()["medication_id"]))
            await self._observe()

        @precondition(lambda self: self.medicines)
        @rule(data=st.data(), critical=st.booleans())
        def clinic_marks_time_critical(self, data: st.DataObject, critical: bool) -> None:
            medicine = data.draw(st.sampled_from(self.medicines))

            async def mark() -> None:
                response = await world.web.patch(
                    f"/api/v1/patients/{self.patient_id}/medications/{medicine}",
                    json={"time_critical": critical},
                    headers=world.auth,
                )
                assert response.status_code in (200, 404), response.text
                await self._observe()

            world.run(mark)

        @precondition(lambda self: self.medicines)
        @rule(data=st.data(), status=st.sampled_from(["paused", "active", "deleted"]))
        def clinic_changes_medicine_status(self, data: st.DataObject, status: str) -> None:
            """As the dashboard writes it: the status only, as a signed-in clinician."""
            medicine = data.draw(st.sampled_from(self.medicines))

            async def change() -> None:
                async with as_clinician(world.admin, world.clinician_id) as conn:
                    await conn.execute(
                        "update medications set status = $2 where id = $1 and status <> 'deleted'",
                        medicine,
                        status,
                    )
                await self._observe()

            world.run(change)

        @rule(minutes_ahead=st.sampled_from([0, 20, 95, 400]))
        def clinic_schedules_message(self, minutes_ahead: int) -> None:
            async def send() -> None:
                when = world.clock.now + timedelta(minutes=minutes_ahead)
                response = await world.web.post(
                    "/api/v1/messages",
                    json={
                        "patient_id": str(self.patient_id),
                        "text": "The clinic is closed on Friday.",
                        "scheduled_time": when.isoformat(),
                    },
                    headers=world.auth,
                )
                # No channel reaches the patient (STOP on SMS and on their chat, if any): a
                # message due within 15 minutes is refused (it would fail unsent at once), a later
                # one accepted with a warning (they may reply START meanwhile).
                if not self._reachable() and minutes_ahead < 15:
                    assert response.status_code == 409, response.text
                    assert "reply START" in response.json()["error"]["reason"]
                    world.stats["message refused: unreachable"] += 1
                else:
                    assert response.status_code == 201, response.text
                    codes = [w["code"] for w in response.json()["warnings"]]
                    # Inside the patient's quiet hours it waits for their end, and says so.
                    quiet = ["quiet_hours"] if await self._quiet_at(when) else []
                    unreachable = [] if self._reachable() else ["patient_unreachable"]
                    assert codes == unreachable + quiet
                    world.stats["message warned: unreachable"] += len(unreachable)
                    world.stats["message warned: quiet hours"] += len(quiet)
                await self._observe()

            world.run(send)

        async def _quiet_at(self, at: datetime) -> bool:
            """Whether the patient's quiet window (their own, else the clinic's, else the
            service's) holds ``at`` in their zone."""
            row = await world.admin.fetchrow(
                """select p.timezone,
                          coalesce(p.quiet_start, o.default_quiet_start) as quiet_start,
                          coalesce(p.quiet_end, o.default_quiet_end) as quiet_end
                     from patients p join organizations o on o.id = p.organization_id
                    where p.id = $1""",
                self.patient_id,
            )
            window = (
                row["quiet_start"] or world.settings.quiet_hours_start,
                row["quiet_end"] or world.settings.quiet_hours_end,
            )
            return in_quiet_hours(at, row["timezone"], *window)

        def _reachable(self) -> bool:
            """Whether a contact point of the patient's channel order may be written to: their
            SMS until STOP, their Telegram chat until /stop, their WhatsApp until STOP there."""
            chat_open = (self.channel == "telegram" and self.tg_stopped is None) or (
                self.channel == "whatsapp" and self.wa_stopped is None
            )
            return not self.stopped or chat_open

        @precondition(lambda self: len(self.appointments) < 3)
        @rule(hours_ahead=st.sampled_from([2, 9, 26]))
        def clinic_books_appointment(self, hours_ahead: int) -> None:
            async def book() -> None:
                starts = (world.clock.now + timedelta(hours=hours_ahead)).replace(
                    second=0, microsecond=0
                )
                response = await world.web.post(
                    "/api/v1/appointments",
                    json={
                        "patient_id": str(self.patient_id),
                        "starts_at": starts.isoformat(),
                        "reminder_offsets": [60, 24 * 60],
                    },
                    headers=world.auth,
                )
                if response.status_code == 409:
                    # Booked again at the same time: refused, naming the live one there.
                    existing = response.json()["error"]["existing_id"]
                    assert UUID(existing) in self.appointments, response.text
                    first = await world.web.get(
                        f"/api/v1/appointments/{existing}", headers=world.auth
                    )
                    assert datetime.fromisoformat(first.json()["starts_at"]) == starts
                    assert first.json()["status"] not in ("cancelled", "completed", "no_show")
                    return
                assert response.status_code == 201, response.text
                self.appointments.append(UUID(response.json()["id"]))
                await self._observe()

            world.run(book)

        @precondition(lambda self: self.appointments)
        @rule(data=st.data(), hours_ahead=st.sampled_from([None, 3, 30]))
        def clinic_moves_or_cancels_appointment(
            self, data: st.DataObject, hours_ahead: int | None
        ) -> None:
            appointment = data.draw(st.sampled_from(self.appointments))

            async def move() -> None:
                path = f"/api/v1/appointments/{appointment}"
                if hours_ahead is None:
                    response = await world.web.post(f"{path}/cancel", headers=world.auth)
                else:
                    starts = world.clock.now + timedelta(hours=hours_ahead)
                    response = await world.web.patch(
                        path,
                        json={"starts_at": starts.replace(second=0, microsecond=0).isoformat()},
                        headers=world.auth,
                    )
                # A cancelled or past appointment cannot be moved (409).
                assert response.status_code in (200, 409, 422), response.text
                await self._observe()

            world.run(move)

        @rule(quiet=st.sampled_from(QUIET))
        def clinic_changes_quiet_hours(self, quiet: tuple[str, str]) -> None:
            async def change() -> None:
                await self._set_quiet(quiet)
                await self._observe()

            world.run(change)

        @rule(zone=st.sampled_from(ZONES))
        def clinic_changes_time_zone(self, zone: str) -> None:
            async def change() -> None:
                response = await world.web.patch(
                    f"/api/v1/patients/{self.patient_id}",
                    json={"timezone": zone},
                    headers=world.auth,
                )
                assert response.status_code == 200, response.text
                self.zone = zone
                await self._observe()

            world.run(change)

        @rule(telegram_first=st.booleans())
        def clinic_changes_channel_order(self, telegram_first: bool) -> None:
            """Telegram (WhatsApp, for a WhatsApp patient) first or SMS first; an SMS patient
            with Telegram first has no chat there yet (allowed: they may link one), so SMS still
            reaches them."""

            async def change() -> None:
                chat = "whatsapp" if self.channel == "whatsapp" else "telegram"
                order = [chat, "sms"] if telegram_first else ["sms", chat]
                response = await world.web.patch(
                    f"/api/v1/patients/{self.patient_id}",
                    json={"channel_order": order},
                    headers=world.auth,
                )
                assert response.status_code == 200, response.text
                await self._observe()

            world.run(change)

        @rule()
        def another_clinic_looks(self) -> None:
            async def look() -> None:
                path = f"/api/v1/patients/{self.patient_id}"
                seen = await world.web.get(path, headers=world.other_auth)
                assert seen.status_code == 404, seen.text
                sent = await world.web.post(
                    "/api/v1/messages",
                    json={"patient_id": str(self.patient_id), "text": "Hello"},
                    headers=world.other_auth,
                )
                assert sent.status_code in (404, 422), sent.text

            world.run(look)

        # -- the patient -----------------------------------------------------------------------

        @rule(text=st.sampled_from(TYPED), by_sms=st.booleans())
        def patient_types(self, text: str, by_sms: bool) -> None:
            channel = "sms" if by_sms else self.channel
            world.run(lambda: self._answer_typed(text, channel))

        @precondition(lambda self: any(self._may_be_open(r) for r in self.received))
        @rule(data=st.data())
        def patient_answers_a_question(self, data: st.DataObject) -> None:
            """An answer one of the latest questions shows, typed on its channel."""
            asked = [r for r in self.received if self._may_be_open(r)][-4:]
            question = data.draw(st.sampled_from(asked))
            answers = sorted(question.typed & set(MEANING))
            if answers:
                text = data.draw(st.sampled_from(answers))
                world.run(lambda: self._answer_typed(text, question.channel))

        @precondition(lambda self: self.channel == "telegram")
        @rule(data=st.data())
        def patient_presses_a_button(self, data: st.DataObject) -> None:
            if not self.tg_buttons:
                return
            _, payload = data.draw(st.sampled_from(self.tg_buttons[-6:]))
            world.run(lambda: self._press(payload))

        @rule(command=st.sampled_from(["/pause", "/resume", "STOP", "START"]))
        def patient_sends_command(self, command: str) -> None:
            async def send() -> None:
                sms = command in ("STOP", "START")
                await self._inbound(command, "sms" if sms else self.channel)
                if command == "STOP":
                    self.stopped = True
                elif command == "START":
                    self.stopped = False
                await self._observe(after_stop=command == "STOP")

            world.run(send)

        @precondition(lambda self: self.channel == "telegram")
        @rule(stop=st.booleans())
        def patient_stops_or_starts_telegram(self, stop: bool) -> None:
            """/stop in the chat: the worker sends it nothing (its SMS may still serve), its
            answers answer nothing, until /start."""

            async def send() -> None:
                await self._inbound("/stop" if stop else "/start", "telegram")
                if stop and self.tg_stopped is None:
                    self.tg_stopped = world.clock.now
                elif not stop:
                    self.tg_stopped = None
                world.stats["telegram /stop" if stop else "telegram /start"] += 1
                await self._observe()

            world.run(send)

        @precondition(lambda self: self.channel == "whatsapp")
        @rule(stop=st.booleans())
        def patient_stops_or_starts_whatsapp(self, stop: bool) -> None:
            """STOP on WhatsApp: nothing more goes there but its confirmation (SMS may still
            serve), its words and buttons answer nothing and hear nothing, until START."""
            world.run(lambda: self._stop_whatsapp(stop))

        async def _stop_whatsapp(self, stop: bool) -> None:
            await self._inbound("STOP" if stop else "START", "whatsapp")
            if stop and self.wa_stopped is None:
                self.wa_stopped = world.clock.now
                world.stats["whatsapp STOP"] += 1
                await self._observe(after_stop=True)
                return
            if not stop:
                self.wa_stopped = None
            await self._observe()

        @precondition(lambda self: self.channel == "whatsapp")
        @rule(code=st.sampled_from(["t", "s", "k"]))
        def whatsapp_reminder_comes_and_is_pressed(self, code: str) -> None:
            """Time passes to the patient's next reminder (a few hours at most), and its
            Taken, Snooze or Skip is pressed as soon as it shows: the press most patients make."""

            async def wait_and_press() -> None:
                due = await world.admin.fetchval(
                    "select min(scheduled_time) from scheduled_messages where patient_id = $1"
                    " and kind = 'medication_reminder' and status = 'pending'",
                    self.patient_id,
                )
                if due is None or due > world.clock.now + timedelta(hours=6):
                    return
                shown = len(self.wa_buttons)
                await self._advance(max(due - world.clock.now, timedelta(0)))
                for _, buttons in self.wa_buttons[shown:]:
                    for title, payload in buttons:
                        if payload.startswith("d:") and payload.split(":")[2][:1] == code:
                            await self._press_whatsapp(title, payload, "on arrival")
                            return

            world.run(wait_and_press)

        @precondition(lambda self: self.wa_buttons)
        @rule(data=st.data())
        def whatsapp_patient_presses_a_current_button(self, data: st.DataObject) -> None:
            """A button of the newest WhatsApp message about a dose or appointment."""
            # In the order they first came (sorted by id, the order of random UUIDs, a replay
            # drew another dose: hypothesis's FlakyStrategyDefinition).
            newest = {entity: buttons for entity, buttons in self.wa_buttons}
            entity = data.draw(st.sampled_from(list(newest)))
            title, payload = data.draw(st.sampled_from(newest[entity]))
            world.run(lambda: self._press_whatsapp(title, payload, "current"))

        @precondition(lambda self: len(self.wa_buttons) > 1)
        @rule(data=st.data())
        def whatsapp_patient_presses_an_old_button(self, data: st.DataObject) -> None:
            """A button of a WhatsApp message a newer one superseded: a newer message about
            its dose (the snoozed reminder back, the snooze's reply) or a later dose's reminder."""
            old = self.wa_buttons[:-1]
            _, buttons = data.draw(st.sampled_from(old))
            title, payload = data.draw(st.sampled_from(buttons))
            world.run(lambda: self._press_whatsapp(title, payload, "old"))

        @precondition(lambda self: self.wa_buttons)
        @rule(data=st.data(), command=st.sampled_from(["/pause", "STOP"]))
        def whatsapp_patient_pauses_or_stops_then_presses(
            self, data: st.DataObject, command: str
        ) -> None:
            """/pause or STOP on WhatsApp, then a button of a reminder that came before it:
            a snooze is refused while paused (said so), Taken and Skip still count; after STOP
            nothing is recorded and nothing is said."""
            _, buttons = data.draw(st.sampled_from(self.wa_buttons[-3:]))
            title, payload = data.draw(st.sampled_from(buttons))

            async def pause_then_press() -> None:
                if command == "STOP":
                    await self._stop_whatsapp(True)
                else:
                    await self._inbound(command, "whatsapp")
                    await self._observe()
                await self._press_whatsapp(title, payload, f"after {command}")

            world.run(pause_then_press)

        async def _press_whatsapp(self, title: str, payload: str, which: str) -> None:
            """Press a WhatsApp quick reply: Twilio posts the button's id as ButtonPayload and
            its title as ButtonText and Body. The answer is recorded on the dose or appointment
            the button names, with the button's meaning, or refused with a reply that says
            why; never on another."""
            named = UUID(hex=payload.split(":")[1])
            before = await self._answers()
            facts = await world.admin.fetchrow(
                "select p.reminders_paused, m.status as medicine, d.due_at"
                " from patients p left join dose_events d on d.id = $2"
                " left join medications m on m.id = d.medication_id where p.id = $1",
                self.patient_id,
                named,
            )
            sent = len(world.twilio.messages)
            self.wa_wrote = world.clock.now
            await twilio_inbound(
                world.web,
                f"whatsapp:{self.phone}",
                title,
                button_payload=payload,
                button_text=title,
            )
            world.stats[f"whatsapp presses ({which})"] += 1
            after = await self._answers()
            changed = _changed(before, after)
            assert changed <= {named}, f"button {title!r} {payload} changed {changed}"
            replies = [
                _shown_text(m)
                for m in world.twilio.messages[sent:]
                if m.to == f"whatsapp:{self.phone}"
            ]
            if self.wa_stopped is not None:
                assert not changed, f"button {payload} after STOP changed {changed}"
                assert not replies, f"told after STOP: {replies}"
            else:
                assert len(replies) == 1, f"button {title!r} ({which}) was answered {replies}"
                self._check_pressed(payload, before, after, facts, replies[0])
            self._answered(changed)
            await self._observe()

        def _check_pressed(
            self,
            payload: str,
            before: dict[UUID, tuple[str, Any]],
            after: dict[UUID, tuple[str, Any]],
            facts: asyncpg.Record,
            reply: str,
        ) -> None:
            """A reminder's button recorded its answer on its dose, or said why not."""
            kind, hex_id, code = payload.split(":")[:3]
            named = UUID(hex=hex_id)
            if kind != "d":
                if before[named][0] not in OPEN_APPOINTMENT:  # cancelled, or completed
                    assert after[named] == before[named], f"{payload} changed a closed visit"
                    assert reply == _en("appt_unknown"), reply
                return
            status = before[named][0]
            # What the dose becomes ((status, snoozed_until), or None: as it was), and how the
            # reply starts (bot/dialogs/answers.py, bot/button_turn.py).
            outcome: tuple[str, Any] | None = None
            if status in ("taken", "skipped"):
                said = "This dose was already recorded as "
            elif facts["medicine"] == "deleted":  # nothing recorded against a deleted medicine
                said = _en("answer_medicine_deleted")
            elif code in ("t", "k"):  # late or not, on a paused medicine too: it counts
                final = "taken" if code == "t" else "skipped"
                outcome, said = (
                    (final, after[named][1]),
                    "Taken at " if final == "taken" else "Skipped: ",
                )
            elif status != "cancelled" and world.clock.now - facts["due_at"] > QUESTION_TTL:
                # Its reminder would come back as another day's dose (scheduler.dose_answers).
                said = "It is too late to snooze "
                world.stats["whatsapp snooze too late"] += 1
            elif facts["reminders_paused"] and status != "cancelled":
                said = _en("med_saved_paused")  # docs/preferences.md: the pause withholds it
            elif facts["medicine"] != "active" or status == "cancelled":
                said = _en("answer_unknown")
            else:
                until = world.clock.now + timedelta(minutes=int(code[1:] or 15))
                # "again at 12:10 AM", or "again on Thu, March 5 at 12:10 AM" past midnight.
                outcome, said = ("snoozed", until), "OK, I'll remind you again "
            world.stats[f"whatsapp press {outcome[0] if outcome else 'refused'}"] += 1
            assert after[named] == (outcome or before[named]), (
                f"{payload} on a {status} dose left it {after[named]}, not {outcome}"
            )
            assert reply.startswith(said), f"{payload} on a {status} dose was answered {reply!r}"

        async def _inbound(self, text: str, channel: str) -> None:
            world.stats[f"inbound {channel}"] += 1
            if channel == "telegram":
                await telegram_text(world.web, self.chat, text)
            elif channel == "whatsapp":
                self.wa_wrote = world.clock.now
                await twilio_inbound(world.web, f"whatsapp:{self.phone}", text)
            else:
                await twilio_inbound(world.web, self.phone, text)

        async def _press(self, payload: str) -> None:
            named = UUID(hex=payload.split(":")[1])
            before = await self._answers()
            edits = len(world.telegram.calls_to("editMessageText"))
            await telegram_press(world.web, self.chat, payload)
            world.stats["presses"] += 1
            after = await self._answers()
            changed = _changed(before, after)
            assert changed <= {named}, f"button {payload} changed {changed}"
            assert not (changed and self.tg_stopped), f"button {payload} after /stop: {changed}"
            self._answered(changed)
            # The reply edits the pressed message; a snooze's keeps Taken for the dose.
            for call in world.telegram.calls_to("editMessageText")[edits:]:
                data = [d for row in call.buttons() for _, d in row if d]
                if call.chat_id == self.chat and any(d.startswith("d:") for d in data):
                    labels = [label for row in call.buttons() for label, _ in row]
                    typed = _shown_answers(call.text or "", labels) | _word_answers(data)
                    now = world.clock.now
                    self._ask(Received("telegram", named, "dose", now, typed, False, now, now))
            await self._observe()

        async def _answer_typed(self, text: str, channel: str) -> None:
            before = await self._answers()
            paused = await world.admin.fetchval(
                "select reminders_paused from patients where id = $1", self.patient_id
            )
            question, ambiguous = self._expected_question(text, before, channel)
            expected = question.entity if question is not None else None
            await self._inbound(text, channel)
            after = await self._answers()
            changed = _changed(before, after)
            assert len(changed) <= 1, f"{text!r} changed {changed}"
            self._answered(changed)
            if not ambiguous:
                assert changed <= ({expected} if expected else set()), (
                    f"{text!r} changed {changed}, not the question it answered ({expected})"
                )
                meant = MEANING.get(_fold(text))
                if question is not None and _fold(text) in question.meanings:
                    meant = {"dose": question.meanings[_fold(text)]}
                # A dose of a medicine paused or deleted since is refused, not recorded
                # (tests/web/test_deleted_medicine_answers.py).
                dose = await world.admin.fetchrow(
                    "select m.status <> 'active' as stopped, d.due_at from dose_events d"
                    " join medications m on m.id = d.medication_id where d.id = $1",
                    expected,
                )
                stopped = dose is not None and dose["stopped"]
                if expected is not None and meant is not None and not stopped:
                    status = before[expected][0]
                    kind = "dose" if status in OPEN_DOSE | {"missed"} else "appointment"
                    wanted = meant.get(kind)
                    if wanted == "snoozed" and paused:
                        wanted = status  # refused: docs/preferences.md "/pause and /resume"
                    if wanted == "snoozed" and world.clock.now - dose["due_at"] > QUESTION_TTL:
                        wanted = status  # refused: too late, it would read as another day's
                        world.stats["typed snooze too late"] += 1
                    if wanted is not None and not (kind == "dose" and status == "missed"):
                        world.stats[f"typed {kind} answers checked"] += 1
                        assert after[expected][0] == wanted, (
                            f"{text!r} to the open {kind} question left it {after[expected][0]}"
                        )
            await self._observe()

        def _ask(self, received: Received) -> None:
            """A question arrives. The chat's older ones about its dose or appointment stay
            open until answered (bot.sql close_questions) or 12 hours old: the router gives a
            typed answer to the newest open question that takes it, so "skip" after a snooze's
            reply (Taken and Snooze only) reaches the reminder's Skip."""
            self.received.append(received)

        def _may_be_open(self, received: Received) -> bool:
            """A question about a dose or appointment, not answered, asked within 12 hours:
            open unless its dose or appointment is settled (:meth:`_open` reads that)."""
            return (
                received.entity is not None
                and not received.closed
                and world.clock.now - received.asked <= QUESTION_TTL
            )

        def _answered(self, entities: set[UUID]) -> None:
            """The questions about ``entities`` sent so far are answered: closed."""
            for received in self.received:
                if received.entity in entities:
                    received.closed = True

        def _expected_question(
            self, text: str, state: dict[UUID, tuple[str, Any]], channel: str
        ) -> tuple[Received | None, bool]:
            """The newest question still open that this channel showed with ``text``;
            ambiguous when a dialog question is newer (the dialog may take the answer)."""
            typed = _fold(text)
            stopped = {
                "sms": self.stopped,
                "telegram": self.tg_stopped,
                "whatsapp": self.wa_stopped,
            }
            if stopped.get(channel):
                return None, False  # an opted-out chat's words answer nothing (until START)
            read = 0  # open questions the router read, newest first
            for received in reversed(self.received):
                if received.channel != channel:
                    continue
                if received.kind == "dialog" and typed in received.typed:
                    return None, True
                if not self._open(received, state):
                    continue
                read += 1
                if read > OPEN_QUESTIONS_READ:
                    world.stats["typed past the open questions read"] += 1
                    return None, False
                if typed not in received.typed:
                    continue
                # Two questions sent in one pass were asked at one instant (the clock is
                # frozen meanwhile): which the phone shows last is not the worker's to know.
                tied = [
                    other
                    for other in self.received
                    if other.channel == channel
                    and other.entity != received.entity
                    and other.sent_at == received.sent_at
                    and typed in other.typed
                    and self._open(other, state)
                ]
                return received, bool(tied)
            return None, False

        def _open(self, received: Received, state: dict[UUID, tuple[str, Any]]) -> bool:
            """A question about a dose or appointment that an answer may still change."""
            if received.entity is None or received.closed:
                return False
            if world.clock.now - received.asked > QUESTION_TTL:
                return False
            status, when = state.get(received.entity, ("gone", None))
            if status in OPEN_APPOINTMENT:  # an appointment that has begun is not asked about
                return bool(when > world.clock.now)
            return status in OPEN_DOSE | {"missed"}

        # -- time ------------------------------------------------------------------------------

        @rule(minutes=st.sampled_from([1, 6, 16, 45]))
        def minutes_pass(self, minutes: int) -> None:
            world.run(lambda: self._advance(timedelta(minutes=minutes)))

        @rule(minutes=st.sampled_from([90, 300, 600]))
        def hours_pass(self, minutes: int) -> None:
            world.run(lambda: self._advance(timedelta(minutes=minutes)))

        @precondition(lambda self: self.channel == "whatsapp" and self.wa_wrote is not None)
        @rule()
        def whatsapp_patient_silent_past_the_window(self) -> None:
            """The WhatsApp patient writes nothing for a day: the clock moves past 24 hours
            since they last wrote, its passes sending what falls due. Reminders then go by SMS
            (no approved template here), and nothing free-form reaches WhatsApp."""

            async def silent() -> None:
                assert self.wa_wrote is not None
                while world.clock.now < self.wa_wrote + WHATSAPP_WINDOW + timedelta(hours=1):
                    await self._advance(
                        self.wa_wrote + WHATSAPP_WINDOW + timedelta(hours=1) - world.clock.now
                    )
                world.stats["whatsapp window closed"] += 1

            world.run(silent)

        @rule(hours=st.sampled_from([3, 9]))
        def worker_was_down(self, hours: int) -> None:
            """No worker for hours, then one pass: what was due meanwhile is settled or
            expired, not sent late into the night."""

            async def down() -> None:
                world.clock.now += timedelta(hours=hours)
                await self._pass()  # the planner, then the dispatcher expiring what is stale
                world.clock.now += timedelta(minutes=1)
                await self._pass()  # the next tick settles the doses those were about
                await self._observe()

            world.run(down)

        async def _advance(self, span: timedelta) -> None:
            """Worker passes as a worker ticking every minute makes them: at each pending
            message's time and at least every 15 minutes, up to ``span`` ahead."""
            target = world.clock.now + span
            for _ in range(60):
                upcoming = await world.admin.fetchval(
                    "select min(scheduled_time) from scheduled_messages"
                    " where status = 'pending' and scheduled_time > $1",
                    world.clock.now,
                )
                step = world.clock.now + timedelta(minutes=15)
                if upcoming is not None:
                    step = min(step, upcoming)
                world.clock.now = min(step, target)
                await self._pass()
                if world.clock.now >= target:
                    break
            await self._observe()

        async def _pass(self) -> None:
            assert world.db.pool is not None
            await run_planner_tick(world.db.pool, world.clock.now, world.settings)
            # In an order of what they are, one at a time: two appointments' confirmations
            # held to one quiet window's end were claimed and sent in either order (ties of the
            # claim's order; concurrent sends), so their questions took their seq either way
            # round (docs/delivery.md "Questions"), a typed "1" confirmed one appointment on
            # one replay and the other on the next, and a later precondition read the two
            # states differently: hypothesis stopped on FlakyStrategyDefinition (seed 2512,
            # 40 x 30, Auckland clock: on every run).
            dispatcher = worker(world.db, world.senders, world.clock, in_order=True)
            while await dispatcher.run_once():
                pass
            self.last_pass = world.clock.now
            world.stats["passes"] += 1

        # -- what the patient and the clinic see -----------------------------------------------

        async def _answers(self) -> dict[UUID, tuple[str, Any]]:
            """Every dose's and appointment's answer state: (status, snoozed_until) of a dose,
            (status, starts_at) of an appointment."""
            doses = await world.admin.fetch(
                "select id, status, snoozed_until from dose_events where patient_id = $1",
                self.patient_id,
            )
            appointments = await world.admin.fetch(
                "select id, status, starts_at from appointments where patient_id = $1",
                self.patient_id,
            )
            state: dict[UUID, tuple[str, Any]] = {
                r["id"]: (r["status"], r["snoozed_until"]) for r in doses
            }
            state |= {r["id"]: (r["status"], r["starts_at"]) for r in appointments}
            return state

        async def _observe(self, *, after_stop: bool = False) -> None:
            """Read what the fakes got since the last look, and check the invariants."""
            await self._read_phone(after_stop=after_stop)
            await self._check_rows()

        async def _read_phone(self, *, after_stop: bool) -> None:
            now = world.clock.now
            new_tg = world.telegram.sent_messages[self.tg_seen :]
            new_sms = world.twilio.messages[self.sms_seen :]
            self.tg_seen += len(new_tg)
            self.sms_seen += len(new_sms)
            new_tg = [call for call in new_tg if call.chat_id == self.chat]
            tg_ids = [str((call.result or {}).get("message_id")) for call in new_tg]
            rows = await self._sent_rows([*tg_ids, *(m.sid or "" for m in new_sms)])
            new_tg = _in_stable_order(new_tg, tg_ids, rows, self._order_key)
            new_sms = _in_stable_order(
                new_sms, [m.sid or "" for m in new_sms], rows, self._order_key
            )
            for call in new_tg:
                buttons = [(label, data) for row in call.buttons() for label, data in row]
                self.tg_buttons += [(label, d) for label, d in buttons if d[:2] in ("d:", "a:")]
                entity, kind = None, "dialog" if buttons else "none"
                for _, data in buttons:
                    if data and data[:2] in ("d:", "a:"):
                        entity = UUID(hex=data.split(":")[1])
                        kind = "dose" if data[0] == "d" else "appointment"
                # Buttons are picked by label (Telegram shows no numbers, and takes none).
                typed = _shown_answers(call.text or "", [label for label, _ in buttons])
                typed |= _word_answers([data for _, data in buttons if data])
                sent_at = await world.admin.fetchval(
                    "select max(sent_at) from scheduled_messages where conversation_id is null"
                    " and (dose_event_id = $1 or appointment_id = $1)",
                    entity,
                )
                # The worker's send of it, else a reply of the bot's just now.
                asked = sent_at if sent_at is not None and sent_at >= self.last_read else now
                self._ask(Received("telegram", entity, kind, now, typed, False, sent_at, asked))
            to_patient = [m for m in new_sms if m.to == self.phone]
            if self.stopped:
                allowed = 1 if after_stop else 0
                assert len(to_patient) <= allowed, (
                    f"sent to an opted-out number: {[m.body for m in to_patient]}"
                )
            for message in to_patient:
                row = await world.admin.fetchrow(
                    "select id, kind, dose_event_id, appointment_id, conversation_id, sent_at"
                    " from scheduled_messages where provider_message_id = $1",
                    message.sid,
                )
                body = message.body or ""
                entity, kind = None, "none"
                if row is not None and row["dose_event_id"] and row["kind"] in MEDICATION_KINDS:
                    entity, kind = row["dose_event_id"], "dose"
                elif row is not None and row["appointment_id"] and "confirm" in body.lower():
                    entity, kind = row["appointment_id"], "appointment"
                elif re.search(r"(?m)^\s*\d\W", body):
                    kind = "dialog"
                shown = _shown_answers(body, [])
                if row is not None and entity is not None:
                    shown |= await self._question_words(row["id"])
                sent_at = row["sent_at"] if row is not None else None
                self._ask(Received("sms", entity, kind, now, shown, False, sent_at, sent_at or now))
            await self._read_whatsapp(new_sms, after_stop=after_stop)
            self.last_read = now

        async def _sent_rows(self, provider_ids: list[str]) -> dict[str, asyncpg.Record]:
            """The patient's sent messages by their provider's id (Telegram's message_id,
            Twilio's SID), with what orders them (:meth:`_order_key`); none to order for one."""
            if len(provider_ids) < 2:
                return {}
            rows = await world.admin.fetch(
                """select s.provider_message_id, s.kind, s.conversation_id, s.sent_at,
                          s.scheduled_time, s.appointment_id, d.medication_id, d.due_at
                     from scheduled_messages s
                     left join dose_events d on d.id = s.dose_event_id
                    where s.patient_id = $1 and s.provider_message_id = any($2::text[])""",
                self.patient_id,
                provider_ids,
            )
            return {row["provider_message_id"]: row for row in rows}

        def _order_key(self, row: asyncpg.Record) -> tuple[Any, ...]:
            """A worker's message by what it is: when it went, its kind and time, its medicine
            (by the order the clinic added them) and dose, its appointment (booked order)."""
            medicine, appointment = row["medication_id"], row["appointment_id"]
            return (
                row["sent_at"],
                row["kind"],
                row["scheduled_time"],
                self.medicines.index(medicine) if medicine in self.medicines else -1,
                row["due_at"] or MIN,
                self.appointments.index(appointment) if appointment in self.appointments else -1,
            )

        async def _question_words(self, message_id: UUID) -> frozenset[str]:
            """The usual words the question a sent message asks takes (its recorded answers)."""
            data = await world.admin.fetchval(
                "select array(select o ->> 'data' from conversation_questions q,"
                " jsonb_array_elements(q.options) o where q.id = $1)",
                message_id,
            )
            return _word_answers(data)

        async def _read_whatsapp(self, new: list[TwilioCall], *, after_stop: bool) -> None:
            """WhatsApp messages: quick-reply buttons in the 24-hour window (their ids name the
            dose or appointment, as Telegram's data does), else numbered text as on SMS."""
            now = world.clock.now
            to_patient = [m for m in new if m.to == f"whatsapp:{self.phone}"]
            if self.wa_stopped is not None:
                assert len(to_patient) <= (1 if after_stop else 0), (
                    f"sent to WhatsApp after STOP: {[_shown_text(m) for m in to_patient]}"
                )
            for message in to_patient:
                row = await world.admin.fetchrow(
                    "select id, kind, dose_event_id, conversation_id, sent_at"
                    " from scheduled_messages where provider_message_id = $1",
                    message.sid,
                )
                text = _shown_text(message)
                buttons = [(title, data) for title, data in message.buttons if data]
                # No approved template is configured here: whatever WhatsApp got went inside
                # the 24-hour window (Twilio refuses free-form text after it: 63016).
                at = row["sent_at"] if row is not None and row["sent_at"] else now
                assert self.wa_wrote is not None and at - self.wa_wrote < WHATSAPP_WINDOW, (
                    f"WhatsApp message at {at}, the patient last wrote at {self.wa_wrote}: {text!r}"
                )
                entity, kind = None, "dialog" if buttons else "none"
                for _, data in buttons:
                    if data[:2] in ("d:", "a:"):
                        entity = UUID(hex=data.split(":")[1])
                        kind = "dose" if data[0] == "d" else "appointment"
                if not buttons and re.search(r"(?m)^\s*\d\W", text):
                    kind = "dialog"  # numbered text: a dialog's, or a reminder's (below)
                if not buttons and row is not None and row["kind"] in MEDICATION_KINDS:
                    entity, kind = row["dose_event_id"], "dose"
                typed = _shown_answers(text, [title for title, _ in buttons])
                typed |= _word_answers([data for _, data in buttons])
                meanings = {}
                if buttons and row is not None and row["conversation_id"] is not None:
                    # The bot's own questions on WhatsApp take their options' numbers, buttons
                    # or not (bot.conversation.NUMBERED_CHANNELS).
                    typed |= {str(n) for n in range(1, len(buttons) + 1)}
                    meanings = {
                        str(n): answer.answer
                        for n, (_, data) in enumerate(buttons, 1)
                        if (answer := parse_dose_data(data)) is not None
                    }
                if entity is not None and not buttons and row is not None:
                    typed |= await self._question_words(row["id"])
                sent_at = row["sent_at"] if row is not None else None
                asked = sent_at or now
                self._ask(
                    Received("whatsapp", entity, kind, now, typed, False, sent_at, asked, meanings)
                )
                if entity is not None and buttons:
                    self.wa_buttons.append((entity, buttons))
                world.stats["whatsapp with buttons" if buttons else "whatsapp as text"] += 1

        async def _check_rows(self) -> None:
            rows = await world.admin.fetch(
                """select s.id, s.kind, s.status, s.sent_at, s.scheduled_time, s.dose_event_id,
                          s.channel_used,
                          s.caregiver_id, s.conversation_id, s.urgent, s.appointment_id,
                          d.due_at, d.snoozed_until, a.starts_at, d.status as dose_status,
                          d.answered_at
                     from scheduled_messages s
                     left join dose_events d on d.id = s.dose_event_id
                     left join appointments a on a.id = s.appointment_id
                    where s.patient_id = $1 and s.sent_at is not null
                      and s.status in ('sent', 'delivered')
                    -- In sending order: a reminder before the alert about its dose.
                    order by s.sent_at, s.caregiver_id is not null, s.kind""",
                self.patient_id,
            )
            patient = await world.admin.fetchrow(
                """select p.timezone, p.reminders_paused,
                          coalesce(p.quiet_start, o.default_quiet_start) as quiet_start,
                          coalesce(p.quiet_end, o.default_quiet_end) as quiet_end,
                          o.default_quiet_start, o.default_quiet_end
                     from patients p left join organizations o on o.id = p.organization_id
                    where p.id = $1""",
                self.patient_id,
            )
            quiet = (
                patient["quiet_start"] or world.settings.quiet_hours_start,
                patient["quiet_end"] or world.settings.quiet_hours_end,
            )
            for row in rows:
                if row["id"] in self.seen_rows:
                    continue
                self.seen_rows.add(row["id"])
                world.stats[f"sent {row['kind']}"] += 1
                if row["caregiver_id"] is not None:
                    self._check_alert(row, patient)
                self._check_sent(row, patient["timezone"], quiet, bool(patient["reminders_paused"]))
            self.paused = bool(patient["reminders_paused"])
            await self._check_doses()
            await self._check_clinics()

        def _check_sent(
            self, row: asyncpg.Record, zone: str, quiet: tuple[time, time], paused: bool
        ) -> None:
            kind = row["kind"]
            what = f"{kind} sent at {row['sent_at'].astimezone(ZoneInfo(zone))}"
            if row["caregiver_id"] is not None:
                if row["dose_event_id"] is not None:
                    self.alerted[row["dose_event_id"]] += 1
                    assert self.alerted[row["dose_event_id"]] <= 1, f"second alert: {what}"
                    # Nobody is told the patient ignored a reminder they never got.
                    assert self.reminded[row["dose_event_id"]], f"alert, never reminded: {what}"
                assert not (paused and self.paused), f"caregiver alerted while paused: {what}"
                return
            if row["conversation_id"] is not None:
                return  # the bot's replies
            if self.tg_stopped is not None and row["sent_at"] >= self.tg_stopped:
                assert row["channel_used"] != "telegram", f"to the chat after its /stop: {what}"
            if self.wa_stopped is not None and row["sent_at"] >= self.wa_stopped:
                assert row["channel_used"] != "whatsapp", f"to WhatsApp after its STOP: {what}"
            if row["urgent"]:
                return  # what the clinic marked urgent
            if kind in MEDICATION_KINDS:
                assert not (paused and self.paused), f"while paused: {what}"
            if row["starts_at"] is not None and kind != "appointment_cancelled":
                assert row["sent_at"] < row["starts_at"], f"after the appointment began: {what}"
            if self.channel == "whatsapp" and kind in MEDICATION_KINDS:
                # WhatsApp first, SMS next: past the 24-hour window (and no template for it)
                # the reminder goes by SMS, not nowhere and not as a refused free-form text.
                closed = self.wa_wrote is None or row["sent_at"] - self.wa_wrote >= WHATSAPP_WINDOW
                if closed and self.wa_stopped is None:
                    assert row["channel_used"] == "sms", (
                        f"past the window, by {row['channel_used']}: {what}"
                    )
                    world.stats["whatsapp window closed: sms"] += 1
            if kind == "medication_reminder":
                self.reminded[row["dose_event_id"]] += 1
                allowed = 1 + self.snoozes[row["dose_event_id"]]
                assert self.reminded[row["dose_event_id"]] <= allowed, f"reminded again: {what}"
                return
            if kind == "dose_followup":
                anchor = row["snoozed_until"] or row["due_at"]
                if not in_quiet_hours(anchor, zone, *quiet):
                    assert not in_quiet_hours(row["scheduled_time"], zone, *quiet), (
                        f"follow-up planned in quiet hours {quiet}: {what}"
                    )
                return
            if row["starts_at"] is not None:
                # About an appointment: held only to a window end at least an hour before it,
                # else sent inside the window (scheduler.quiet_hours.appointment_hold).
                end = quiet_window_end(row["sent_at"], zone, *quiet)
                if end is not None and end > row["starts_at"] - timedelta(hours=1):
                    return
            assert not in_quiet_hours(row["sent_at"], zone, *quiet), (
                f"in quiet hours {quiet[0]}-{quiet[1]}: {what}"
            )

        def _check_alert(self, row: asyncpg.Record, patient: asyncpg.Record) -> None:
            """A caregiver's message: outside the caregiver's quiet hours (the clinic's window,
            never the patient's own) in their zone (the patient's when they have none), and an
            alert only about a dose not answered before it went (a late answer cancels it)."""
            zone = self.caregiver_zone or patient["timezone"]
            window = (
                patient["default_quiet_start"] or world.settings.quiet_hours_start,
                patient["default_quiet_end"] or world.settings.quiet_hours_end,
            )
            what = f"{row['kind']} sent at {row['sent_at'].astimezone(ZoneInfo(zone))} {zone}"
            if not row["urgent"]:
                assert not in_quiet_hours(row["sent_at"], zone, *window), (
                    f"to the caregiver in their quiet hours {window[0]}-{window[1]}: {what}"
                )
            if row["dose_event_id"] is not None and row["dose_status"] in ("taken", "skipped"):
                assert row["answered_at"] is None or row["answered_at"] > row["sent_at"], (
                    f"alert about a dose {row['dose_status']} at {row['answered_at']}: {what}"
                )
            world.stats["caregiver messages"] += 1

        async def _check_doses(self) -> None:
            doses = await world.admin.fetch(
                """select d.id, d.status, d.due_at, d.snoozed_until,
                          p.nag_interval_minutes, p.nag_max,
                          (select max(m.sent_at) from scheduled_messages m
                            where m.dose_event_id = d.id and m.kind = 'medication_reminder'
                          ) as reminded_at
                     from dose_events d join patients p on p.id = d.patient_id
                    where d.patient_id = $1""",
                self.patient_id,
            )
            for dose in doses:
                if dose["snoozed_until"] is not None and dose["status"] == "snoozed":
                    key = (dose["id"], dose["snoozed_until"])
                    if key not in self._snoozes_seen:
                        self._snoozes_seen.add(key)
                        self.snoozes[dose["id"]] += 1
                if dose["status"] not in OPEN_DOSE or self.last_pass is None:
                    continue
                # Counted from the reminder's time, or from when it went out if it left late
                # (a worker that was down sends it late within its two hours).
                anchor = max(dose["snoozed_until"] or dose["due_at"], dose["reminded_at"] or MIN)
                interval = timedelta(minutes=dose["nag_interval_minutes"])
                mark = anchor + (dose["nag_max"] + 1) * interval
                # A reminder sent late (a quarter of an hour between passes at most) moves it.
                assert self.last_pass < mark + timedelta(minutes=30), (
                    f"dose due {anchor} still {dose['status']} at {self.last_pass}"
                )

        async def _check_clinics(self) -> None:
            crossing = await world.admin.fetch(
                """select 'message' as what, s.id from scheduled_messages s
                     join patients p on p.id = s.patient_id
                    where s.organization_id is distinct from p.organization_id
                       and s.organization_id is not null
                   union all
                   select 'message dose', s.id from scheduled_messages s
                     join dose_events d on d.id = s.dose_event_id
                    where d.patient_id <> s.patient_id
                   union all
                   select 'message appointment', s.id from scheduled_messages s
                     join appointments a on a.id = s.appointment_id
                    where a.patient_id <> s.patient_id
                   union all
                   select 'message caregiver', s.id from scheduled_messages s
                     join caregivers c on c.id = s.caregiver_id
                    where c.patient_id <> s.patient_id
                   union all
                   select 'appointment', a.id from appointments a
                     join patients p on p.id = a.patient_id
                    where a.organization_id is distinct from p.organization_id
                   union all
                   select 'dose', d.id from dose_events d
                     join medications m on m.id = d.medication_id
                    where m.patient_id <> d.patient_id"""
            )
            assert not crossing, f"rows across clinics: {crossing}"

        @invariant()
        def reach_is_as_modelled(self) -> None:
            """The model's reachability (what clinic_schedules_message expects of the API) is
            the database's: public.message_reach's route for an `auto` message, the rule the API
            and the dashboard apply."""
            if self.patient_id is None:
                return
            patient = self.patient_id

            async def route() -> list[str] | None:
                return await world.admin.fetchval(
                    "select route from public.message_reach($1, $2, 'free_text', '{}'::jsonb,"
                    " 'auto', true, now(), now())",
                    patient,
                    world.org_id,
                )

            found = world.run(route)
            assert bool(found) == self._reachable(), (found, self.stopped, self.channel)
            world.stats["unreachable steps"] += not found

        @invariant()
        def clock_only_moves_forward(self) -> None:
            world.stats["checks"] += 1
            assert self.last_pass is None or self.last_pass <= world.clock.now

    return Product


def _in_stable_order(
    messages: list[M],
    ids: list[str],
    rows: dict[str, asyncpg.Record],
    key: Callable[[asyncpg.Record], tuple[Any, ...]],
) -> list[M]:
    """``messages`` (their provider ids ``ids``) as the fakes got them, but the worker's sends
    between two of the bot's replies ordered by ``key``: the dispatcher sends a pass's messages
    concurrently, so the order they reach the fakes in varies from run to run, and a rule that
    draws "the newest" or "the last few" would draw other doses when hypothesis replays a
    sequence (FlakyStrategyDefinition). The bot's replies (and whatever no row names) keep
    their place: a turn sends its replies in order."""
    ordered: list[M] = []
    run: list[tuple[tuple[Any, ...], int, M]] = []
    for n, (message, provider_id) in enumerate(zip(messages, ids, strict=True)):
        row = rows.get(provider_id)
        if row is None or row["conversation_id"] is not None:
            ordered += [m for _, _, m in sorted(run, key=lambda item: item[:2])]
            run = []
            ordered.append(message)
        else:
            run.append((key(row), n, message))
    ordered += [m for _, _, m in sorted(run, key=lambda item: item[:2])]
    return ordered


def _changed(before: dict[UUID, tuple[str, Any]], after: dict[UUID, tuple[str, Any]]) -> set[UUID]:
    """Entities an answer changed: to an answer's status (taken, skipped, snoozed, confirmed...)
    or a new snooze time. A dose settled as missed by the turn's pass is not an answer."""
    changed = set()
    for entity, state in after.items():
        old = before.get(entity)
        if old is None or old == state:
            continue
        if state[0] in ANSWERED | {"confirmed", "reschedule_requested", "cancelled"}:
            if state[0] == "cancelled" and old[0] not in OPEN_APPOINTMENT:
                continue
            changed.add(entity)
    return changed


@pytest.fixture
def senders(wa_senders: dict) -> dict:
    """The processes' senders (tests/web/conftest.py ``wa_senders``): a WhatsApp patient who
    wrote gets buttons. Overrides the web tests' ``senders`` (no window: WhatsApp sends
    templates only) for ``web`` and the worker alike."""
    return wa_senders


# The mixed machine; the same with every patient on WhatsApp, so that its buttons are pressed:
# few of the mixed machine's sequences get that far on WhatsApp.
RUNS = {"mixed": (CHANNELS, 8, 30), "whatsapp": (("whatsapp",), 6, 25)}


@pytest.mark.parametrize("patients", sorted(RUNS))
async def test_the_clinic_the_patient_and_the_worker_together(
    patients: str,
    web: httpx.AsyncClient,
    chat_clock: Clock,
    web_settings: Settings,
    db: Database,
    senders: dict,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    auth: dict[str, str],
    other_auth: dict[str, str],
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> None:
    """The web app of ``web`` and the worker's passes share ``chat_clock``."""
    clinician = await factories.create_clinician(admin_conn, org["id"])
    world = World(
        asyncio.get_running_loop(),
        db,
        web_settings,
        senders,
        web,
        admin_conn,
        fake_telegram,
        fake_twilio,
        chat_clock,
        auth,
        other_auth,
        org["id"],
        clinician["id"],
    )
    channels, examples, steps = RUNS[patients]
    run = settings_for_run()
    if "MEDREMIND_STATEFUL_EXAMPLES" not in os.environ:
        run = hypothesis_settings(run, max_examples=examples, stateful_step_count=steps)
    machine = machine_for(world, channels)
    await asyncio.to_thread(run_state_machine_as_test, machine, settings=run)
    print(f"clinic and patient ({patients}): {dict(sorted(world.stats.items()))}")
    assert world.stats["sent medication_reminder"], "no sequence got as far as a reminder"
    if patients == "whatsapp":
        pressed = sum(n for key, n in world.stats.items() if key.startswith("whatsapp press "))
        assert pressed, "no sequence pressed a WhatsApp reminder's button"
        assert world.stats["whatsapp window closed: sms"], "no reminder came past the window"
