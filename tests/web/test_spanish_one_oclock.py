"""Spanish says "a la 1:30" and "de la 1:00", not "a las": one o'clock takes the singular article,
every other hour the plural. The bot's texts and the reminders both take it from one helper
(core.template_filters.hour_article). Before, every Spanish text said "a las 1:00".

Driven as a patient texts: signed Twilio webhooks into the web process, the worker's dispatcher
sending the reminder (its SMS in GSM-7 letters) to the loopback Twilio, the patient's "1"
(Tomada) typed back. One injected clock (START, 11:50 UTC, is 00:50 in Pago Pago, UTC-11, no
daylight saving time); quiet hours are set explicitly (02:00-03:00).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time, timedelta

import asyncpg
import httpx

from core.db import Database
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, option_number, sms_chat, worker

NUMBER = "+34600111556"


async def _add_saved(
    conn: asyncpg.Connection, web: httpx.AsyncClient, twilio: FakeTwilio, times: str
) -> tuple[Callable[[str], Awaitable[str]], str]:
    """A Spanish patient in Pago Pago on SMS who /adds a medicine at ``times``, every day from
    today: their ``say`` and the reply to Guardar."""
    await factories.create_patient(
        conn,
        contacts={"sms": NUMBER},
        locale="es",
        timezone="Pacific/Pago_Pago",
        display_name="Ana",
        quiet_start=time(2, 0),
        quiet_end=time(3, 0),
    )
    say = sms_chat(web, twilio, NUMBER)
    await say("/add Ibuprofeno")
    await say("400 mg")
    await say(times)
    days = await say("listo")
    start = await say(option_number(days, "Todos los dias"))
    end = await say(option_number(start, "Hoy"))
    await say(option_number(end, "Sin fecha de fin"))
    summary = await say("20")
    return say, await say(option_number(summary.rpartition("\n\n")[2], "Guardar"))


async def test_one_oclock_is_a_la_in_the_bot_and_the_reminder(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    say, saved = await _add_saved(admin_conn, web, fake_twilio, "1:00, 11:00")
    assert saved.startswith("Guardado. Te lo recordaré a la 1:00 y a las 11:00."), saved
    assert "a la 1:00 y a las 11:00, todos los dias" in await say("/meds")

    # The 1:00 reminder (12:00 UTC), over SMS in GSM-7 letters, then its answer.
    chat_clock.now = START + timedelta(minutes=10)
    before = len(fake_twilio.messages)
    assert await worker(db, senders, chat_clock).run_once() == 1
    reminder = fake_twilio.messages[before].body or ""
    assert "Es la hora de tu dosis de la 1:00." in reminder, reminder
    assert "á" not in reminder and "í" not in reminder, reminder
    taken = await say("1")
    assert taken.startswith("Tomada a la 1:00: tu dosis de la 1:00."), taken


async def test_other_hours_keep_a_las(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    _, saved = await _add_saved(admin_conn, web, fake_twilio, "11:00, 13:00")
    assert saved.startswith("Guardado. Te lo recordaré a las 11:00 y a las 13:00."), saved


async def test_each_time_of_a_list_has_its_own_article(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    """Several times: each after "a" with its own article, joined as Spanish joins a list.
    Before, the first time's article stood for all: "a la 1:00, 11:00", "a las 11:00, 1:00"."""
    say, saved = await _add_saved(admin_conn, web, fake_twilio, "1:00, 11:00, 13:00")
    assert saved.startswith("Guardado. Te lo recordaré a la 1:00, a las 11:00 y a las 13:00."), (
        saved
    )
    meds = await say("/meds")
    await say(option_number(meds, "Cambiar horas de Ibuprofeno"))
    await say("13:00, 1:00")
    done = await say("listo")
    assert done.startswith("Te recordaré Ibuprofeno a la 1:00 y a las 13:00."), done
    assert "a la 1:00 y a las 13:00, todos los dias" in await say("/meds")


async def test_the_home_clocks_one_oclock_is_es_la(
    web: httpx.AsyncClient,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    """A traveller keeping Madrid's times is asked for times on the home clock, with its time
    now: "donde ahora son las 12:50", but at ten to two "donde ahora es la 1:50" (it said "son
    las 1:50")."""
    await factories.create_patient(
        admin_conn,
        contacts={"sms": NUMBER},
        locale="es",
        timezone="Asia/Tokyo",
        timezone_mode="home",
        home_timezone="Europe/Madrid",
        display_name="Ana",
        quiet_start=time(2, 0),
        quiet_end=time(3, 0),
    )
    say = sms_chat(web, fake_twilio, NUMBER)
    for hours, now in ((0, "donde ahora son las 12:50)"), (13, "donde ahora es la 1:50)")):
        chat_clock.now = START + timedelta(hours=hours)  # 12:50 and 1:50 in Madrid (UTC+1)
        await say("/add Ibuprofeno")
        asked = await say("400 mg")
        assert f"Horas del reloj de casa (Madrid, {now}" in asked, asked
        await say("/cancel")
