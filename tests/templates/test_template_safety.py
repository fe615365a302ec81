"""Clinician templates as data (issue 15, items 1 and 2), over a real ``medremind web`` process
and the dispatcher on real Postgres.

Item 1: checking a template ran it, so ``{{ patient_name * 10**6 }}``, ``replace('', ...)`` and
nested loops cost seconds and hundreds of MB in the web process, and ``{{ self }}`` or
``{{ patient_name.upper }}`` printed internals. Now the template language is checked without
running it, at save (validate and PUT answer 422 naming the construct) and again at render.

Item 2: the length check used one 17-letter GSM-7 sample, so "Łukasz Nowak" (UCS-2) made a saved
template too long at send time, and the row failed with nothing sent. Now the check counts every
variable at its longest in UCS-2, and a message that still does not fit reaches the patient
another way (the built-in text, or the next channel), the row saying why.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.db import Database
from medremind.api_keys import create_api_key
from platforms.base import Channel
from scheduler.dispatcher import Dispatcher
from tests import factories
from tests.dispatch.conftest import NOON
from tests.dispatch.recording import RecordingSender
from tests.fakes.fake_telegram import FakeTelegram
from tests.templates.conftest import add_template
from tests.web.conftest import count
from tests.web.processes import kill, start_web, stop, wait_until_up

MakeDispatcher = Callable[..., tuple[Dispatcher, dict[Channel, RecordingSender]]]

NESTED_LOOPS = (
    "{% for a in patient_name ~ clinic_name %}{% for b in patient_name ~ clinic_name %}"
    "{% for c in patient_name ~ clinic_name %}x{% endfor %}{% endfor %}{% endfor %}"
)
# Parts nested in parts: each checked and allowed, but 200 conditionals broke Jinja's compiler
# (validate answered 500, and PUT saved a template no send could render), 120 {% if %} Python's
# indentation limit, and 120 'and' cost 0.8 s of CPU to compile in every process.
DEEP_CONDITIONALS = "{{ " + "'a' if patient_name else " * 200 + "'b' }}"
DEEP_IFS = "{% if patient_name %}" * 120 + "x" + "{% endif %}" * 120
DEEP_AND = "{{ " + "patient_name and " * 120 + "patient_name }}"
# The attacks, and what the answer must name.
HOSTILE = {
    "{{ patient_name * 10**6 }}": "arithmetic ('*') is not allowed",
    "{{ patient_name|replace('', patient_name ~ patient_name) }}": "must be literals",
    "{{ patient_name|replace('', 'xxxxxxxxxx') }}": "the text to find must not be empty",
    NESTED_LOOPS: "loops ({% for %}) are not allowed",
    "{{ self }}": "unknown variable 'self'",
    "{{ patient_name.upper }}": "access to attribute 'upper' is not allowed",
    "{{ patient_name|upper|join(', ') }}": "the 'join' filter is not allowed",
    "{% set n = patient_name ~ patient_name %}{{ n }}": "{% set %} is not allowed",
    DEEP_CONDITIONALS: "nested too deeply (more than 30 levels",
    DEEP_IFS: "nested too deeply (more than 30 levels",
    DEEP_AND: "nested too deeply (more than 30 levels",
}


@pytest.fixture
async def web(database_url: str, tmp_path: Path, fake_telegram: FakeTelegram) -> AsyncIterator[str]:
    """``medremind web`` as a real process on the test database; its base URL."""
    process, base = start_web(database_url, tmp_path, fake_telegram)
    try:
        await wait_until_up(base, process)
        yield base
        await stop(process, timeout=30)
    finally:
        kill(process)


@pytest.fixture
async def key(db: Database, admin_conn: asyncpg.Connection) -> dict[str, str]:
    org = await factories.create_organization(admin_conn, name="North Clinic")
    assert db.pool is not None
    return {"Authorization": f"Bearer {await create_api_key(db.pool, str(org['id']), 'tests')}"}


async def _reminder(
    conn: asyncpg.Connection, patient_id: uuid.UUID, template: str
) -> asyncpg.Record:
    """A medication reminder due at noon for a dose of a new medication, naming ``template``."""
    _, schedule = await factories.create_medication(conn, patient_id)
    dose = await factories.create_dose_event(conn, schedule, NOON)
    return await factories.create_message(
        conn,
        patient_id,
        scheduled_time=NOON,
        template=template,
        kind="medication_reminder",
        dose_event_id=dose["id"],
        message_content=None,
    )


async def test_hostile_templates_are_refused_at_validate_and_put_by_the_web_process(
    web: str, key: dict[str, str], admin_conn: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=web, headers=key, timeout=30) as http:
        for source, reason in HOSTILE.items():
            checked = await http.post("/api/v1/templates/validate", json={"body": source})
            assert checked.status_code == 422, (source, checked.text)
            answer = checked.json()
            assert answer["ok"] is False and answer["error"]["field"] == "body"
            assert any(reason in p for p in answer["problems"]), (source, answer["problems"])
            assert all(p.startswith("line 1: ") for p in answer["problems"])
            saved = await http.put("/api/v1/templates/attack", json={"body": source})
            assert saved.status_code == 422, (source, saved.text)
            assert reason in saved.json()["error"]["reason"]
            # The process answers at once: nothing was run.
            assert (await http.get("/healthz")).status_code == 200
        assert await count(admin_conn, "message_templates") == 0

        # What a reminder needs still works, byte for byte.
        source = (
            "{% if patient_name %}Hi {{ patient_name|title }}{% else %}Hello{% endif %}, "
            "{{ clinic_name }}: your visit is {{ starts_at|date('full') }} at "
            "{{ starts_at|time }}{{ ' in ' ~ location if location else '' }}."
        )
        body = {"body": source, "kind": "appointment_reminder", "channel": "email"}
        checked = await http.post("/api/v1/templates/validate", json=body)
        assert checked.status_code == 200, checked.text
        assert checked.json()["preview"] == (
            "Hi Alexandra Example, Riverside Family Clinic: your visit is Thursday, January 16, "
            "2025 at 9:30 AM in Room 12, second floor."
        )
        assert (await http.put("/api/v1/templates/visit", json=body)).status_code == 201


async def test_a_name_at_its_longest_in_ucs2_is_checked_at_save(
    web: str, key: dict[str, str], admin_conn: asyncpg.Connection
) -> None:
    """Fits with a 17-letter GSM-7 sample name; not with 'Łukasz ...' at 50 letters."""
    source = "Dear {{ patient_name }}, your test results are ready. " + (
        "Please call the clinic to book a visit with your doctor. " * 2
    )
    async with httpx.AsyncClient(base_url=web, headers=key, timeout=30) as http:
        refused = await http.put("/api/v1/templates/results", json={"body": source})
        assert refused.status_code == 422, refused.text
        reason = refused.json()["error"]["reason"]
        assert "too long for sms in the worst case (every variable at its longest" in reason
        assert "UCS-2 segments" in reason and "at most 3 allowed" in reason
        # For e-mail (no limit) the same text is fine; for WhatsApp too (1,600 characters).
        for channel in ("email", "whatsapp"):
            saved = await http.put(
                "/api/v1/templates/results", json={"body": source, "channel": channel}
            )
            assert saved.status_code == 201, saved.text
    assert await count(admin_conn, "message_templates") == 2


async def test_a_stored_template_outside_the_language_is_refused_at_render(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    """Written around the checks (PostgREST, an import): refused before it runs; a reminder
    goes out with the built-in text, a free message fails naming the template and the problem."""
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(
        admin_conn, org["id"], display_name="Quendolyn", contacts={"sms": "+14155550100"}
    )
    await add_template(admin_conn, org["id"], "loops", NESTED_LOOPS, kind="medication_reminder")
    await add_template(admin_conn, org["id"], "method", "Hi {{ patient_name.upper }}")
    reminder = await _reminder(admin_conn, patient["id"], "loops")
    free = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, template="method", message_content=None
    )
    dispatcher, senders = make_dispatcher({Channel.SMS: RecordingSender(Channel.SMS)})

    assert await dispatcher.run_once() == 2

    [(_, message)] = senders[Channel.SMS].sends
    assert message.text == "Hi Quendolyn. Time for your 12:00 PM dose."
    assert "built-in method" not in message.text and "xxx" not in message.text
    sent = await admin_conn.fetchrow(
        "select * from scheduled_messages where id = $1", reminder["id"]
    )
    assert sent["status"] == "sent"
    assert "template 'loops' (en, default): not allowed in a template" in sent["last_error"]
    assert "sent the built-in medication_reminder text instead" in sent["last_error"]
    failed = await admin_conn.fetchrow("select * from scheduled_messages where id = $1", free["id"])
    assert failed["status"] == "failed"
    assert "access to attribute 'upper' is not allowed" in failed["last_error"]


async def test_a_message_too_long_for_its_channel_goes_another_way(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    """A stored template too long for SMS with this patient's name: the free message goes by
    e-mail, the reminder by SMS with the built-in text; each row says why."""
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(
        admin_conn,
        org["id"],
        display_name="Łukasz Nowak-Wiśniewski",
        contacts={"sms": "+14155550100", "email": "lukasz@example.org"},
    )
    essay = "Dear {{ patient_name }}, " + "please remember to bring your glucose diary. " * 4
    await add_template(admin_conn, org["id"], "essay", essay)
    await add_template(admin_conn, org["id"], "pill", essay, kind="medication_reminder")
    free = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, template="essay", message_content=None
    )
    reminder = await _reminder(admin_conn, patient["id"], "pill")
    dispatcher, senders = make_dispatcher(
        {Channel.SMS: RecordingSender(Channel.SMS), Channel.EMAIL: RecordingSender(Channel.EMAIL)}
    )

    assert await dispatcher.run_once() == 2

    [(address, mail)] = senders[Channel.EMAIL].sends
    assert address == "lukasz@example.org" and mail.text.startswith("Dear Łukasz Nowak-Wiśniewski")
    [(_, sms)] = senders[Channel.SMS].sends
    assert "Time for your 12:00 PM dose." in sms.text
    rows = {
        r["id"]: r
        for r in await admin_conn.fetch(
            "select id, status, channel_used, last_error from scheduled_messages"
        )
    }
    assert rows[free["id"]]["status"] == "sent" and rows[free["id"]]["channel_used"] == "email"
    assert rows[free["id"]]["last_error"].startswith("sms: template 'essay' (en, default)")
    assert "too long for sms" in rows[free["id"]]["last_error"]
    assert rows[reminder["id"]]["status"] == "sent"
    assert rows[reminder["id"]]["channel_used"] == "sms"
    assert (
        "sent the built-in medication_reminder text instead" in rows[reminder["id"]]["last_error"]
    )
    attempt = await admin_conn.fetchrow(
        "select * from message_delivery_attempts where message_id = $1 and status = 'failed'",
        free["id"],
    )
    assert attempt["channel"] == "sms" and attempt["error_class"] == "permanent"


async def test_a_template_without_a_version_for_the_channel_goes_another_way(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    """Versions for e-mail only: the free message goes by e-mail (the patient's second channel),
    the reminder by Telegram with the built-in text; was failed with nothing sent."""
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"telegram": "4242", "email": "ana@example.org"}
    )
    await add_template(admin_conn, org["id"], "letter", "Dear {{ patient_name }}", channel="email")
    await add_template(
        admin_conn,
        org["id"],
        "pill",
        "Time for {{ medicine_name }}",
        channel="email",
        kind="medication_reminder",
    )
    free = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, template="letter", message_content=None
    )
    reminder = await _reminder(admin_conn, patient["id"], "pill")
    telegram, email = RecordingSender(Channel.TELEGRAM), RecordingSender(Channel.EMAIL)
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: telegram, Channel.EMAIL: email})

    assert await dispatcher.run_once() == 2

    [(_, mail)] = email.sends
    assert mail.text == "Dear Test Patient"
    [(_, chat)] = telegram.sends
    assert "Time for your 12:00 PM dose." in chat.text
    rows = {
        r["id"]: r
        for r in await admin_conn.fetch(
            "select id, status, channel_used, last_error from scheduled_messages"
        )
    }
    assert rows[free["id"]]["channel_used"] == "email"
    assert "has no version for telegram" in rows[free["id"]]["last_error"]
    assert rows[reminder["id"]]["channel_used"] == "telegram"
    assert "built-in medication_reminder text" in rows[reminder["id"]]["last_error"]
