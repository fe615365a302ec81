"""/add reads the dose for the pill count: "2 pastillas" is two pills a dose, "10 ml" none.

Before, /add's summary put the pill count under the dose as "20 pastillas" (read as the dose of
"1 comprimido" by whoever saw it in dev), every dose counted as one pill whatever it said, so
"2 pastillas" with 20 in stock had its refill reminder after 20 doses when the pills ran out
after 10, and a syrup's patient was asked how many pills they had. Driven as a patient texts:
signed Twilio webhooks into the web process, the worker's dispatcher sending the reminder to
the loopback Twilio, the patient's "1" (Taken) typed back. One injected clock; quiet hours are
set explicitly (02:00-03:00).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from core.db import Database
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, option_number, sms_chat, worker

NUMBER = "+34600111555"
QUIET: dict[str, Any] = {"quiet_start": time(2, 0), "quiet_end": time(3, 0)}


async def _patient(conn: asyncpg.Connection, locale: str) -> asyncpg.Record:
    return await factories.create_patient(
        conn, contacts={"sms": NUMBER}, locale=locale, display_name="Ana", **QUIET
    )


async def _add_through_dates(
    say: Callable[[str], Awaitable[str]], locale: str, name: str, dose: str
) -> str:
    """/add ``name`` with ``dose`` at noon, every day from today, no end date: the reply to the
    end date (the pill count question, or the summary when none is asked)."""
    done, every_day, today, no_end = (
        ("listo", "Todos los dias", "Hoy", "Sin fecha de fin")
        if locale == "es"
        else ("done", "Every day", "Today", "No end date")
    )
    await say(f"/add {name}")
    await say(dose)
    await say("12")
    days = await say(done)
    start = await say(option_number(days, every_day))
    end = await say(option_number(start, today))
    return await say(option_number(end, no_end))


@pytest.mark.parametrize(
    ("locale", "dose", "summary_line", "per_dose", "left"),
    [
        ("es", "2 pastillas", "Pastillas que tienes: 20, 10 tomas de 2", 2, 18),
        ("es", "1 comprimido", "Pastillas que tienes: 20", 1, 19),
        ("en", "1/2 tablet", "Pills you have: 20, 40 doses of 0.5", 0.5, 19),
        ("en", "one pill", "Pills you have: 20", 1, 19),
    ],
)
async def test_the_dose_says_how_many_pills_a_taken_dose_counts_down(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    dose: str,
    summary_line: str,
    per_dose: float,
    left: int,
) -> None:
    patient = await _patient(admin_conn, locale)
    say = sms_chat(web, fake_twilio, NUMBER)
    asked = await _add_through_dates(say, locale, "Ibuprofeno", dose)
    summary = await say("20")
    assert asked.startswith(("¿Cuantas pastillas", "How many pills")), asked
    assert summary_line in summary.splitlines(), summary
    assert f"Ibuprofeno ({dose})" in summary, summary
    options = summary.rpartition("\n\n")[2]  # "Save it?" is not the option Save
    saved = await say(option_number(options, "Guardar" if locale == "es" else "Save"))
    assert saved.startswith(("Guardado.", "Saved.")), saved
    row = await admin_conn.fetchrow(
        "select pills_per_dose, pill_count from medications where patient_id = $1",
        patient["id"],
    )
    assert (float(row["pills_per_dose"]), row["pill_count"]) == (per_dose, 20)

    # The noon reminder, answered Taken: the count goes down by the dose's whole pills.
    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 1
    await say("1")
    assert (
        await admin_conn.fetchval(
            "select pill_count from medications where patient_id = $1", patient["id"]
        )
        == left
    )


@pytest.mark.parametrize(("locale", "dose"), [("es", "10 ml"), ("en", "2 puffs")])
async def test_a_dose_not_in_pills_is_not_asked_for_a_pill_count(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    dose: str,
) -> None:
    await _patient(admin_conn, locale)
    summary = await _add_through_dates(sms_chat(web, fake_twilio, NUMBER), locale, "Jarabe", dose)
    assert summary.startswith(f"Jarabe ({dose})"), summary
    assert "astillas" not in summary and "Pills" not in summary, summary


@pytest.mark.parametrize(
    ("locale", "dose", "shown"),
    [
        ("en", "1", "Pill (1 pill)"),
        ("es", "1", "Pill (1 pastilla)"),
        ("en", "2", "Pill (2 pills)"),
        ("es", "1/2", "Pill (1/2 pastilla)"),
    ],
)
async def test_a_bare_number_dose_is_shown_as_pills(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    dose: str,
    shown: str,
) -> None:
    """A dose typed as a number alone is that many pills (as the pill count reads it), and the
    summary and /meds say so. Before, they said "Pill (1)", which reads as a medicine's number."""
    await _patient(admin_conn, locale)
    say = sms_chat(web, fake_twilio, NUMBER)
    asked = await _add_through_dates(say, locale, "Pill", dose)
    summary = await say("20")
    assert asked.startswith(("¿Cuantas pastillas", "How many pills")), asked
    assert summary.startswith(shown + "\n"), summary
    options = summary.rpartition("\n\n")[2]
    await say(option_number(options, "Guardar" if locale == "es" else "Save"))
    assert f"1. {shown} " in await say("/meds")
