"""The dispatcher renders clinician templates of the patient's organization in the sandbox."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from time import monotonic

import asyncpg

from core.templating import TemplateRenderer
from platforms.base import Channel
from scheduler.claims import Claim
from scheduler.custom_templates import CustomTemplate, TemplateCache, cache_for, pick_version
from scheduler.dispatcher import Dispatcher
from scheduler.rendering import render_claim
from tests import factories
from tests.dispatch.conftest import NOON
from tests.dispatch.recording import RecordingSender
from tests.templates.conftest import add_template

MakeDispatcher = Callable[..., tuple[Dispatcher, dict[Channel, RecordingSender]]]


async def _row(conn: asyncpg.Connection, message_id: object) -> asyncpg.Record:
    row = await conn.fetchrow("select * from scheduled_messages where id = $1", message_id)
    assert row is not None
    return row


async def test_an_org_template_is_rendered_with_the_patients_variables(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    org = await factories.create_organization(admin_conn, name="Riverside Clinic")
    patient = await factories.create_patient(
        admin_conn, org["id"], display_name="Ann", contacts={"telegram": "4242"}
    )
    await add_template(
        admin_conn, org["id"], "checkup", "Hello {{ patient_name }}, {{ clinic_name }} here."
    )
    msg = await factories.create_message(
        admin_conn,
        patient["id"],
        scheduled_time=NOON,
        template="checkup",
        message_content="preview text from the dashboard",
    )
    dispatcher, senders = make_dispatcher()

    assert await dispatcher.run_once() == 1

    row = await _row(admin_conn, msg["id"])
    assert row["status"] == "sent", row["last_error"]
    ((address, message),) = senders[Channel.TELEGRAM].sends
    assert address == "4242"
    assert message.text == "Hello Ann, Riverside Clinic here."
    assert message.html == "Hello Ann, Riverside Clinic here."


async def test_the_medicine_is_named_only_with_the_opt_in(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    org = await factories.create_organization(admin_conn)
    await add_template(
        admin_conn,
        org["id"],
        "pill",
        "{{ patient_name }}: time for {{ medicine_name }} at {{ due_at|time }}.",
        kind="medication_reminder",
    )
    dispatcher, senders = make_dispatcher()
    texts = {}
    for opted_in in (False, True):
        patient = await factories.create_patient(
            admin_conn, org["id"], name_medicine_in_reminders=opted_in, display_name="Ann"
        )
        _, schedule = await factories.create_medication(admin_conn, patient["id"])
        dose = await factories.create_dose_event(admin_conn, schedule, NOON)
        msg = await factories.create_message(
            admin_conn,
            patient["id"],
            scheduled_time=NOON,
            kind="medication_reminder",
            template="pill",
            dose_event_id=dose["id"],
            message_content=None,
        )
        await dispatcher.run_once()
        row = await _row(admin_conn, msg["id"])
        assert row["status"] == "sent", row["last_error"]
        texts[opted_in] = senders[Channel.TELEGRAM].sends[-1][1]
    assert texts[False].text == "Ann: time for your medicine at 12:00 PM."
    assert texts[True].text == "Ann: time for Metformin at 12:00 PM."
    # The answer buttons stay, labelled as the built-in reminder labels them.
    assert [o.label for o in texts[False].options] == ["Taken", "Snooze 15 min", "Skip"]


async def test_another_organizations_template_of_the_same_name_is_never_used(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    ours = await factories.create_organization(admin_conn)
    theirs = await factories.create_organization(admin_conn)
    await add_template(admin_conn, theirs["id"], "checkup", "THEIR TEXT {{ patient_name }}")
    await add_template(admin_conn, theirs["id"], "only_theirs", "THEIR OTHER TEXT")
    patient = await factories.create_patient(admin_conn, ours["id"])
    await add_template(admin_conn, ours["id"], "checkup", "Our text")
    ok = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, template="checkup"
    )
    foreign = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, template="only_theirs"
    )
    dispatcher, senders = make_dispatcher()

    assert await dispatcher.run_once() == 2

    assert [m.text for _, m in senders[Channel.TELEGRAM].sends] == ["Our text"]
    assert (await _row(admin_conn, ok["id"]))["status"] == "sent"
    failed = await _row(admin_conn, foreign["id"])
    assert failed["status"] == "failed"
    assert "only_theirs" in failed["last_error"]


async def test_a_bad_template_fails_the_row_naming_the_template_and_the_problem(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": "+14155550100"}
    )
    # Written straight into the table (bypassing validation), as a careless import could.
    await add_template(admin_conn, org["id"], "typo", "Hi {{ patient_nmae }}")
    await add_template(admin_conn, org["id"], "escape", "{{ ''.__class__.__mro__ }}")
    await add_template(admin_conn, org["id"], "essay", "Hello {{ patient_name }}. " * 60)
    ids = {}
    for name in ("typo", "escape", "essay"):
        msg = await factories.create_message(
            admin_conn, patient["id"], scheduled_time=NOON, template=name
        )
        ids[name] = msg["id"]
    dispatcher, senders = make_dispatcher({Channel.SMS: RecordingSender(Channel.SMS)})

    assert await dispatcher.run_once() == 3

    assert senders[Channel.SMS].sends == []
    errors = {}
    for name, message_id in ids.items():
        row = await _row(admin_conn, message_id)
        assert row["status"] == "failed"
        errors[name] = row["last_error"]
    assert "template 'typo' (en, default)" in errors["typo"]
    assert "patient_nmae" in errors["typo"] and "undefined" in errors["typo"]
    assert "template 'escape'" in errors["escape"]
    assert "not allowed in a template" in errors["escape"] and "'__class__'" in errors["escape"]
    assert "template 'essay'" in errors["essay"] and "too long for sms" in errors["essay"]


async def test_one_query_per_batch_and_none_without_templates(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    org = await factories.create_organization(admin_conn)
    await add_template(admin_conn, org["id"], "hello", "Hello {{ patient_name }}")
    for _ in range(5):
        patient = await factories.create_patient(admin_conn, org["id"])
        await factories.create_message(
            admin_conn, patient["id"], scheduled_time=NOON, template="hello"
        )
    dispatcher, senders = make_dispatcher()
    assert await dispatcher.run_once() == 5
    assert dispatcher.renderer is not None
    assert cache_for(dispatcher.renderer).queries == 1
    assert len(senders[Channel.TELEGRAM].sends) == 5

    patient = await factories.create_patient(admin_conn, org["id"])
    await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    assert await dispatcher.run_once() == 1
    assert cache_for(dispatcher.renderer).queries == 1  # free text: no lookup at all


def _version(locale: str, channel: str) -> CustomTemplate:
    return CustomTemplate(
        organization_id=uuid.uuid4(),
        name="t",
        kind="free_text",
        locale=locale,
        channel=channel,
        body=f"{locale}/{channel}",
    )


def test_locale_and_channel_fallback() -> None:
    versions = [_version("en", "default"), _version("es", "sms"), _version("fr", "default")]

    def pick(locale: str, channel: str) -> str:
        version = pick_version(versions, locale, channel)
        assert version is not None
        return version.body

    assert pick("es", "sms") == "es/sms"  # exact
    assert pick("es-MX", "sms") == "es/sms"  # the language of a regional locale
    assert pick("es", "telegram") == "en/default"  # es has no telegram or default: English
    assert pick("de", "whatsapp") == "en/default"
    only = [_version("fr", "default"), _version("es", "default")]
    anyone = pick_version(only, "de", "sms")
    assert anyone is not None and anyone.body == "es/default"  # then any, alphabetically
    assert pick_version([_version("en", "sms")], "en", "telegram") is None


def test_render_claim_uses_the_given_cache_and_channel_version() -> None:
    patient_id = uuid.uuid4()
    cache = TemplateCache()
    org = uuid.uuid4()
    versions = (
        CustomTemplate(org, "t", "free_text", "es", "default", "Hola {{ patient_name }}"),
        CustomTemplate(org, "t", "free_text", "es", "sms", "SMS {{ patient_name }}"),
        CustomTemplate(
            org, "t", "free_text", "en", "email", "Mail", subject="Hi {{ clinic_name }}"
        ),
    )
    cache._entries[(patient_id, "t")] = (0.0, versions)
    claim = Claim(
        id=uuid.uuid4(),
        patient_id=patient_id,
        lease_token=uuid.uuid4(),
        scheduled_time=NOON,
        platform="auto",
        kind="free_text",
        attempts=1,
        max_attempts=3,
        template="t",
        locale="es",
        display_name="Ana",
        organization_name="Clínica Sol",
    )
    renderer = TemplateRenderer()
    assert render_claim(renderer, claim, Channel.TELEGRAM, cache).text == "Hola Ana"
    assert render_claim(renderer, claim, Channel.SMS, cache).text == "SMS Ana"
    # No es e-mail version but an es default one: the locale wins over the channel.
    assert render_claim(renderer, claim, Channel.EMAIL, cache).text == "Hola Ana"
    english = render_claim(renderer, _with(claim, locale="en"), Channel.EMAIL, cache)
    assert english.text == "Mail" and english.subject == "Hi Clínica Sol"
    # Not in the cache: the built-in template of that name.
    builtin = _with(claim, template="free_text", message_content="Built in")
    assert render_claim(renderer, builtin, Channel.SMS, cache).text.startswith("Built in")


def _with(claim: Claim, **changes: object) -> Claim:
    return dataclasses.replace(claim, **changes)  # type: ignore[arg-type]


def test_the_cache_expires_for_lookups_but_keeps_what_a_batch_loaded() -> None:
    patient_id = uuid.uuid4()
    version = _version("en", "default")
    fresh, stale = TemplateCache(ttl_seconds=60), TemplateCache(ttl_seconds=-1)
    for cache in (fresh, stale):
        cache._entries[(patient_id, "t")] = (monotonic(), (version,))
    assert fresh.versions(patient_id, "t") == (version,)
    assert stale.versions(patient_id, "t") is None  # the next batch loads it again
    assert stale.lookup(patient_id, "t") == (version,)  # a send already under way still has it
    assert fresh.lookup(uuid.uuid4(), "t") is None


async def test_a_clinics_automatic_versions_are_asked_once_for_all_its_patients(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    """Cached by clinic (issue 20): an 08:00 burst of new patients asks once, not per batch;
    each patient still gets their own clinic's text, and a patient of no clinic the built-in."""
    ours = await factories.create_organization(admin_conn)
    theirs = await factories.create_organization(admin_conn)
    for org, text in ((ours, "Ours: time for your dose"), (theirs, "Theirs: dose time")):
        row = await add_template(
            admin_conn, org["id"], "reminder", text, kind="medication_reminder"
        )
        await admin_conn.execute(
            "update message_templates set automatic = true where id = $1", row["id"]
        )
    expected = {}
    for org in (ours, ours, ours, theirs, None):
        patient = await factories.create_patient(admin_conn, org["id"] if org else None)
        _, schedule = await factories.create_medication(admin_conn, patient["id"])
        dose = await factories.create_dose_event(admin_conn, schedule, NOON)
        msg = await factories.create_message(
            admin_conn,
            patient["id"],
            scheduled_time=NOON,
            kind="medication_reminder",
            message_content=None,
            dose_event_id=dose["id"],
        )
        expected[str(msg["id"])] = org
    dispatcher, senders = make_dispatcher(batch_size=2)  # three batches
    while await dispatcher.run_once():
        pass
    assert dispatcher.renderer is not None
    # Once per clinic at most (both may come in one batch); by patient it was once per batch.
    assert cache_for(dispatcher.renderer).queries <= 2
    sent = {m.message_id: m.text for _, m in senders[Channel.TELEGRAM].sends}
    assert len(sent) == 5
    for message_id, org in expected.items():
        if org is ours:
            assert sent[message_id].startswith("Ours:")
        elif org is theirs:
            assert sent[message_id].startswith("Theirs:")
        else:
            assert "Ours" not in sent[message_id] and "Theirs" not in sent[message_id]
