"""A table of inputs the bot cannot use: each gets a short reprompt and the dialog stays put."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import uuid4

import asyncpg

from core.answer_buttons import dose_data
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient


async def at_name(bot: Bot, conn: asyncpg.Connection, chat: int) -> None:
    await bot.send(chat, "/start")
    await bot.press(chat, "I agree")


async def at_timezone(bot: Bot, conn: asyncpg.Connection, chat: int) -> None:
    await at_name(bot, conn, chat)
    await bot.send(chat, "Ana")
    await bot.press(chat, "English")


async def idle(bot: Bot, conn: asyncpg.Connection, chat: int) -> None:
    await registered_patient(bot, conn, chat)


async def at_medicine_name(bot: Bot, conn: asyncpg.Connection, chat: int) -> None:
    await idle(bot, conn, chat)
    await bot.send(chat, "/add")


async def at_dose(bot: Bot, conn: asyncpg.Connection, chat: int) -> None:
    await idle(bot, conn, chat)
    await bot.send(chat, "/add Metformin")


async def at_times(bot: Bot, conn: asyncpg.Connection, chat: int) -> None:
    await idle(bot, conn, chat)
    await bot.send(chat, "/add Metformin")
    await bot.send(chat, "500 mg")


async def at_pills(bot: Bot, conn: asyncpg.Connection, chat: int) -> None:
    await at_times(bot, conn, chat)
    await bot.press(chat, "Morning 08:00")
    await bot.press(chat, "Done")
    await bot.press(chat, "Every day")
    await bot.press(chat, "Today")
    await bot.press(chat, "No end date")


async def at_quiet_hours(bot: Bot, conn: asyncpg.Connection, chat: int) -> None:
    await idle(bot, conn, chat)
    await bot.send(chat, "/settings")
    await bot.press(chat, "Quiet hours")


@dataclass(frozen=True)
class Case:
    name: str
    arrange: Callable[[Bot, asyncpg.Connection, int], Awaitable[None]]
    send: str | None  # text to send, or None to press ``button``
    expect: str  # part of the reply
    step: str  # the step afterwards (unchanged)
    button: str | None = None
    example: str | None = None  # the reprompt shows an example


CASES = [
    Case("unknown timezone", at_timezone, "Atlantis", "don't know that place", "timezone",
         example="Chicago"),
    # EST is a fixed UTC-5 (tzdata's legacy name): a New Yorker who typed it in winter confirmed
    # the right time and got every reminder an hour late from March to November.
    Case("a zone abbreviation", at_timezone, "EST", "does not say whether your clocks change",
         "timezone", example="New York"),
    Case("an abbreviation tzdata lacks", at_timezone, "pst", "PST is a time zone abbreviation",
         "timezone", example="New York"),
    Case("time 25:00", at_times, "25:00", "couldn't read that time", "add_times", example="20:30"),
    Case("empty name", at_name, "   ", "Please send a name", "name", example="Ana"),
    Case("emoji as name", at_name, "😀🎉", "Please send a name", "name"),
    # Names that show nothing (core/person_names.py): Hangul fillers (letters drawn blank) were
    # accepted, "Hi !" in every message; the others were asked for "a name with letters", which
    # did not say what was wrong with what the patient saw as typed.
    Case("zero-width spaces as name", at_name, "\u200b\u200b\u200b", "That name shows nothing",
         "name", example="Ana"),
    Case("a right-to-left override as name", at_name, "\u202e\u2067", "invisible characters",
         "name", example="Ana"),
    Case("Hangul fillers as name", at_name, "\u3164\u3164", "That name shows nothing", "name",
         example="Ana"),
    # Names, medicines and doses go into reminders: at most what the template check assumes
    # (core.template_vocabulary), counted in UTF-16 units (an emoji is two).
    Case("a 51-letter name", at_name, "N" * 51, "up to 50 characters", "name"),
    Case("a name of 52 UTF-16 units", at_name, "Ana " + "😀" * 24, "up to 50 characters", "name"),
    Case("a 61-letter medicine", at_medicine_name, "M" * 61, "up to 60 characters", "add_name"),
    Case("a 41-letter dose", at_dose, "d" * 41, "up to 40 characters", "add_dose"),
    # A control character (pasted from another program) prints nothing or garbage in a reminder,
    # and the database refuses it in a medicine's name (migration 20260101019020): said, not a
    # failed turn. Typed line breaks are spaces (test_a_medicine_typed_on_two_lines_is_one_line).
    Case("a medicine with a control character", at_medicine_name, "Metformin\x07",
         "invisible control character", "add_name", example="Metformin"),
    Case("/add with a control character", idle, "/add Met\x1bformin",
         "invisible control character", "add_name", example="Metformin"),
    Case("a dose with a control character", at_dose, "500\x85mg\x08",
         "invisible control character", "add_dose", example="1 tablet"),
    # The same for a person's name (the database refuses it too, migration 20260101019030).
    Case("a name with a control character", at_name, "Ana\x07", "invisible control character",
         "name", example="Ana"),
    Case("a name with an escape sequence", at_name, "Ana \x1b[31mB", "invisible control character",
         "name", example="Ana"),
    Case("5,000 characters in a step", at_name, "x" * 5000, "too long", "name"),
    Case("5,000 characters idle", idle, "y" * 5000, "too long", "idle"),
    Case("emoji idle", idle, "👍", "didn't understand", "idle", example="/help"),
    Case("unknown command in a step", at_times, "/frobnicate", "don't know that command",
         "add_times"),
    Case("unknown command idle", idle, "/frobnicate", "don't know that command", "idle"),
    Case("old dialog button in a step", at_times, None, "older message", "add_times",
         button="t:deadbeef"),
    Case("old dialog button idle", idle, None, "older message", "idle", button="t:0badf00d"),
    Case("unknown reminder button", idle, None, "no longer active", "idle",
         button=dose_data(uuid4(), "t")),
    Case("garbage button data", idle, None, "older message", "idle", button="zz"),
    # A number was sent: the reprompt says which numbers are taken, not "send a number".
    Case("pills past the limit", at_pills, "99999999999999999999", "from 0 to 100,000",
         "add_pills", example="30"),
    Case("negative pills", at_pills, "-5", "from 0 to 100,000", "add_pills"),
    Case("pills as words", at_pills, "thirty", "Please send a number", "add_pills"),
    # Two times were sent: the reprompt says they must differ, not "type two times".
    Case("quiet hours of no length", at_quiet_hours, "23:00-23:00", "must differ", "set_quiet",
         example="22:00-07:00"),
    Case("quiet hours unreadable", at_quiet_hours, "late", "two times like", "set_quiet",
         example="22:00-07:00"),
]  # fmt: skip


async def test_bad_inputs_are_reprompted(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    for case in CASES:
        chat = bot.new_chat()
        await case.arrange(bot, admin_conn, chat)
        if case.send is not None:
            calls = await bot.send(chat, case.send)
        else:
            assert case.button is not None
            calls = await bot.press_data(chat, case.button)
        texts = [c.text or "" for c in calls if c.method in ("sendMessage", "editMessageText")]
        assert texts, case.name
        assert any(case.expect in t for t in texts), (case.name, texts)
        assert all(len(t) < 1000 for t in texts), case.name  # short, never an echo
        if case.example:
            assert any(case.example in t for t in texts), (case.name, texts)
        step = await admin_conn.fetchval(
            "select step from conversations where chat_address = $1", str(chat)
        )
        assert step == case.step, case.name
    failed = await admin_conn.fetchval(
        "select count(*) from inbound_messages where status <> 'processed'"
    )
    assert failed == 0


async def test_a_medicine_typed_on_two_lines_is_one_line(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A name goes into one line of every reminder: one typed on two lines (an SMS, a Telegram
    message with a line break) is kept with a space, not refused."""
    chat = bot.new_chat()
    await at_medicine_name(bot, admin_conn, chat)
    await bot.send(chat, "Metformin\r\nextended\u2028release")
    await bot.send(chat, "500 mg")
    assert (
        await admin_conn.fetchval(
            "select step from conversations where chat_address = $1", str(chat)
        )
        == "add_times"
    )
    await bot.press(chat, "Morning 08:00")
    await bot.press(chat, "Done")
    await bot.press(chat, "Every day")
    await bot.press(chat, "Today")
    await bot.press(chat, "No end date")
    await bot.send(chat, "30")
    await bot.press(chat, "Save")
    assert await admin_conn.fetchval("select name from medications") == (
        "Metformin extended release"
    )


async def test_reprompt_keeps_buttons_working(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await at_times(bot, admin_conn, chat)
    await bot.send(chat, "25:00")
    assert "Morning 08:00" in bot.labels(chat)
    await bot.press(chat, "Morning 08:00")
    assert "Times so far" in bot.last_text(chat)


async def test_spanish_reprompt(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, locale="es")
    await admin_conn.execute("update conversations set locale = 'es'")
    await bot.send(chat, "/add")
    await bot.send(chat, "/")
    assert "No conozco ese comando" in bot.last_text(chat)
    await bot.send(chat, "Metformina")
    await bot.send(chat, "1 pastilla")
    await bot.send(chat, "25:00")
    assert "No he podido leer esa hora" in bot.last_text(chat)


async def test_markup_in_a_name_is_sent_as_text(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await at_timezone(bot, admin_conn, chat)  # named "Ana"
    await admin_conn.execute("update patients set display_name = '<b>Ann</b> & <i'")
    await bot.send(chat, "/start")
    # Escaped on the wire (the fake Bot API rejects HTML that does not parse).
    # (Under the note that no time zone was chosen yet: at_timezone stops at that question.)
    assert "\n\nWelcome back, &lt;b&gt;Ann&lt;/b&gt; &amp; &lt;i!" in bot.last_text(chat)


async def test_a_name_loses_its_direction_overrides(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """An unterminated U+202E reversed every message text after the name ("Trojan Source");
    the name itself is kept."""
    chat = bot.new_chat()
    await at_name(bot, admin_conn, chat)
    await bot.send(chat, "Ana\u202e")
    assert await admin_conn.fetchval("select display_name from patients") == "Ana"


async def test_a_name_with_a_control_character_is_refused_in_spanish(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A patient's or a caregiver's name holding BEL was stored (a name printed nothing or
    garbage in every greeting), and the database now refuses it: said in the patient's
    language, and the step is kept."""
    chat = bot.new_chat()
    await bot.send(chat, "/start", language_code="es")
    await bot.press(chat, "Acepto", language_code="es")
    await bot.send(chat, "Ana\x07", language_code="es")
    assert "carácter de control invisible" in bot.last_text(chat)
    assert "Por ejemplo: Ana" in bot.last_text(chat)
    await bot.send(chat, "Ana", language_code="es")
    assert await admin_conn.fetchval("select display_name from patients") == "Ana"
