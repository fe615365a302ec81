"""A Spanish-speaking patient's stop words and answers, over the web process and the worker.

Twilio's own opt-out handling knows English words only, so PARAR reached the bot as an ordinary
text: "Perdona, no lo he entendido", and the reminders kept coming. And "posponer" to a reminder
whose button reads "Recordar en 15 min" was not understood either. The patient texts the signed
``/twilio/inbound`` webhook; the worker's dispatcher sends the reminders to the loopback Twilio.
Quiet hours are set explicitly (02:00-03:00), and one clock drives it all.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from uuid import UUID

import asyncpg
import httpx
import pytest

from core.db import Database
from core.settings import Settings
from scheduler.planner import replan_patient, run_planner_tick
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, plain, sms_chat, worker

NUMBER = "+14155550150"
QUIET = {"quiet_start": time(2, 0), "quiet_end": time(3, 0)}


async def _patient(conn: asyncpg.Connection, locale: str = "es") -> UUID:
    org = await factories.create_organization(
        conn, default_quiet_start=time(2, 0), default_quiet_end=time(3, 0)
    )
    patient = await factories.create_patient(
        conn, org["id"], contacts={"sms": NUMBER}, locale=locale, display_name="Ana", **QUIET
    )
    await factories.create_medication(conn, patient["id"], times=(time(12, 0),))
    await replan_patient(conn, patient["id"], START)
    return patient["id"]


async def _say(web: httpx.AsyncClient, twilio: FakeTwilio, text: str) -> str:
    return await sms_chat(web, twilio, NUMBER)(text)


@pytest.mark.parametrize("word", ["PARAR", "parar", " Alto ", "cancelar", "BAJA", "Detener"])
async def test_spanish_stop_words_opt_out_with_a_spanish_confirmation(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    word: str,
) -> None:
    patient = await _patient(admin_conn)
    told = await _say(web, fake_twilio, word)
    assert told == (
        "No recibirás más mensajes aquí. Responde COMENZAR (o START) para volver a suscribirte."
    )
    assert await admin_conn.fetchval(
        "select opted_out_at from contact_points where patient_id = $1", patient
    )
    # Nothing more: no reminder at noon, no answer to another word, one confirmation only.
    assert await _say(web, fake_twilio, word) == ""
    assert await _say(web, fake_twilio, "hola") == ""
    chat_clock.now = START + timedelta(minutes=10)
    await worker(db, senders, chat_clock).run_once()
    assert not [m for m in fake_twilio.messages if m.to == NUMBER and "dosis" in (m.body or "")]
    # COMENZAR (or SÍ, while opted out) brings the messages back, in Spanish.
    assert "Te has vuelto a suscribir" in await _say(web, fake_twilio, "Sí")
    assert (
        await admin_conn.fetchval(
            "select opted_out_at from contact_points where patient_id = $1", patient
        )
        is None
    )


async def test_an_english_chat_is_answered_in_the_language_of_the_word(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    await _patient(admin_conn, locale="en")
    assert (await _say(web, fake_twilio, "STOP")).startswith("You will not get any more")
    assert (await _say(web, fake_twilio, "comenzar")).startswith("Te has vuelto a suscribir")
    assert (await _say(web, fake_twilio, "parar")).startswith("No recibirás más mensajes")
    assert (await _say(web, fake_twilio, "START")).startswith("You're subscribed again")
    assert (await _say(web, fake_twilio, "ayuda")).startswith("Recordatorios de medicación")
    assert (await _say(web, fake_twilio, "HELP")).startswith("MedRemind medication reminders")


async def test_stop_words_inside_a_sentence_are_not_opt_outs(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    patient = await _patient(admin_conn)
    for text in ("no quiero parar", "alto ahí", "cancelar la cita del martes", "dar de baja?"):
        told = await _say(web, fake_twilio, text)
        assert "No recibirás más mensajes" not in told, text
    assert (
        await admin_conn.fetchval(
            "select opted_out_at from contact_points where patient_id = $1", patient
        )
        is None
    )
    # And "sí", when not opted out, is no opt-in either: an ordinary answer.
    assert "suscribir" not in await _say(web, fake_twilio, "sí")


@pytest.mark.parametrize(
    ("locale", "word"),
    [("es", "posponer"), ("es", "Posponer"), ("es", "más tarde"), ("es", "snooze"),
     ("en", "posponer"), ("en", "snooze"), ("en", "later")],
)  # fmt: skip
async def test_posponer_snoozes_like_snooze(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    word: str,
) -> None:
    patient = await _patient(admin_conn, locale=locale)
    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 1
    told = await _say(web, fake_twilio, word)
    snoozed = {"es": "De acuerdo, te recuerdo", "en": "OK, I'll remind you again at 12:15 PM"}
    assert snoozed[locale] in told, told
    row = await admin_conn.fetchrow(
        "select status, snoozed_until from dose_events where patient_id = $1 and due_at = $2",
        patient,
        chat_clock.now,
    )
    assert row["status"] == "snoozed"
    assert row["snoozed_until"] == chat_clock.now + timedelta(minutes=15)
    # The snoozed reminder comes back at 12:15 and says the same dose.
    chat_clock.now += timedelta(minutes=15)
    assert await worker(db, senders, chat_clock).run_once() == 1
    assert re.search(r"12:00", plain(fake_twilio.messages[-1].body))


@pytest.mark.parametrize(
    ("locale", "word", "followup"),
    [("es", "Sí", False), ("es", "si", True), ("es", "ya", False), ("es", "Ya está", True),
     ("es", "hecho", False), ("en", "yes", True), ("en", "Yes!", False)],
)  # fmt: skip
async def test_yes_and_already_answer_a_reminder_as_taken(
    web: httpx.AsyncClient,
    web_settings: Settings,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    word: str,
    followup: bool,
) -> None:
    """The follow-up asks "¿Tomaste tu dosis de las 12:00?" ("Did you take ...?"), and "Sí" was
    "Perdona, no lo he entendido"; so were "ya" ("already") and "hecho" ("done") to the reminder.
    Not DONE/LISTO: they end /add's list of times, which a reminder may arrive in the middle of."""
    patient = await _patient(admin_conn, locale=locale)
    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 1
    if followup:
        assert db.pool is not None
        await run_planner_tick(db.pool, chat_clock.now, web_settings)  # plans the follow-up
        chat_clock.now += timedelta(minutes=15)
        assert await worker(db, senders, chat_clock).run_once() == 1
        asked = {"es": "¿Tomaste tu dosis de las 12:00?", "en": "Did you take your 12:00 PM dose?"}
        assert asked[locale] in plain(fake_twilio.messages[-1].body)
    told = await _say(web, fake_twilio, word)
    taken = {"es": "Tomada a las", "en": "Taken at"}
    assert taken[locale] in told, told
    assert (
        await admin_conn.fetchval(
            "select status from dose_events where patient_id = $1 and due_at = $2",
            patient,
            START + timedelta(minutes=10),
        )
        == "taken"
    )
