"""A caregiver on Telegram links their own chat by a link the patient forwards.

Before: /settings > Caregiver > Telegram asked 'Their Telegram chat id?' and took any number, so
one wrong digit sent missed-dose alerts naming the patient to a stranger's chat. Now no chat id is
asked: the patient gets ``https://t.me/<bot>?start=cg_<token>``, nothing is alerted until the
caregiver's own chat opens it, and that /start records the chat. Through the bot's real intake on
the loopback Telegram, the embedded PostgreSQL and the planner that writes the alerts.
"""

from __future__ import annotations

import logging
import re
from datetime import time

import asyncpg
import pytest

from bot import texts
from bot.dialogs import caregiver_links
from bot.locale_format import LOCALES
from core.db import Database
from core.message_limits import channel_limit_problem, count_segments
from core.settings import Settings
from scheduler.planner import run_planner_tick
from tests import factories
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient
from tests.bot.test_caregiver_proof import _miss_the_next_dose
from tests.fakes.fake_twilio import TwilioCall
from tests.planner.conftest import messages


async def _pick_telegram(bot: Bot, chat: int, name: str = "Luis") -> None:
    """/settings > Caregiver > ``name`` > Telegram: the time zone is asked next."""
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    await bot.send(chat, name)
    await bot.press(chat, "Telegram")
    assert "time zone" in bot.last_text(chat)  # no chat id is asked


async def _telegram_caregiver(bot: Bot, chat: int) -> str:
    """Luis on Telegram, same zone, 30 minutes; the link's token."""
    await _pick_telegram(bot, chat)
    await bot.press(chat, "Same as mine")
    await bot.press(chat, "30")
    found = re.search(r"https://t\.me/medremind_test_bot\?start=(cg_[\w-]+)", bot.last_text(chat))
    assert found, bot.last_text(chat)
    return found.group(1)


async def test_the_caregivers_own_chat_links_itself_and_only_then_gets_alerts(
    bot: Bot,
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    token = await _telegram_caregiver(bot, chat)
    assert "Send Luis this link" in bot.last_text(chat)
    # Pending: no caregiver row, so a missed dose alerts nobody.
    assert await admin_conn.fetchval("select count(*) from caregivers") == 0
    stored = await admin_conn.fetchval("select token_hash from caregiver_links")
    assert token not in stored and len(stored) == 64
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0), time(20, 0)))
    await run_planner_tick(db.pool, bot.clock.now, settings)
    await _miss_the_next_dose(db, settings, admin_conn)
    assert await messages(admin_conn, patient["id"], "missed_dose_caregiver", None) == []

    # The patient opening their own link does not use it up.
    await bot.send(chat, f"/start {token}")
    assert "This link is for Luis" in bot.last_text(chat)

    # Luis opens it in his own Telegram: his chat is the caregiver, told whose and how to stop.
    luis = bot.new_chat()
    await bot.send(luis, f"/start {token}")
    told = bot.last_text(luis)
    assert "You are now Ana's caregiver" in told and "/stop" in told, told
    rows = await admin_conn.fetch("select channel, address, patient_id from caregivers")
    assert [tuple(r) for r in rows] == [("telegram", str(luis), patient["id"])]
    # Ana is told, through the outbound path.
    notice = await messages(admin_conn, patient["id"], "system")
    assert [n["message_content"] for n in notice] == [
        "Luis opened your link: their Telegram now gets your missed-dose alerts."
    ]

    await _miss_the_next_dose(db, settings, admin_conn)
    alerts = await messages(admin_conn, patient["id"], "missed_dose_caregiver")
    assert len(alerts) == 1 and alerts[0]["platform"] == "telegram"

    # Single use: another chat with the same link links nothing.
    stranger = bot.new_chat()
    await bot.send(stranger, f"/start {token}")
    assert "expired or was used already" in bot.last_text(stranger)
    assert await admin_conn.fetchval("select count(*) from caregivers") == 1

    # Luis stops as every caregiver does.
    await bot.send(luis, "/stop")
    assert await admin_conn.fetchval("select opted_out_at is not null from caregivers")
    assert token not in caplog.text


async def test_a_link_expires_after_seven_days_and_a_typed_chat_id_is_no_answer(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await _pick_telegram(bot, chat)
    await bot.send(chat, "123456789")  # a chat id typed anyway: not a time zone, not saved
    assert await admin_conn.fetchval("select count(*) from caregivers") == 0

    token = await _telegram_caregiver(bot, chat)
    bot.clock.advance(days=7, seconds=1)
    luis = bot.new_chat()
    await bot.send(luis, f"/start {token}")
    assert "expired or was used already" in bot.last_text(luis)
    assert await admin_conn.fetchval("select count(*) from caregivers") == 0

    # A link whose patient was erased before it was opened went with them (erase_patient): it
    # said "expired or was used", untrue; it now names a withdrawn link too, and links nobody.
    token = await _telegram_caregiver(bot, chat)
    await admin_conn.execute("select public.erase_patient(id, 'erasure', now()) from patients")
    await bot.send(luis, f"/start {token}")
    assert "or the patient withdrew it. Ask them for a new one." in bot.last_text(luis)
    assert await admin_conn.fetchval("select count(*) from caregivers") == 0
    assert await admin_conn.fetchval("select count(*) from caregiver_links") == 0


async def test_a_telegram_caregiver_dialog_begun_before_links_uses_no_typed_chat_id(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A patient who had picked Telegram and typed a chat id before this release, and answers
    the next question after it, gets a link; the typed number is never saved."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    state = {"data": {"cg_name": "Luis", "cg_channel": "telegram", "cg_address": "123456789"}}
    await admin_conn.execute(
        "update conversations set step = 'set_caregiver_delay', state = state || $1::jsonb"
        " where chat_address = $2",
        state,
        str(chat),
    )
    await bot.send(chat, "30")
    assert "https://t.me/medremind_test_bot?start=cg_" in bot.last_text(chat)
    assert await admin_conn.fetchval("select count(*) from caregivers") == 0


async def test_a_link_not_opened_yet_is_withdrawn_when_the_patient_changes_their_mind(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Naming someone else, or removing the caregiver, withdraws the link: opened later, it
    would have made Luis the caregiver over the patient's newer choice."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    for change in ("someone else", "remove"):
        token = await _telegram_caregiver(bot, chat)
        await bot.send(chat, "/settings")
        await bot.press(chat, "Caregiver")
        if change == "remove":
            await bot.press(chat, "Remove caregiver")
        else:
            await bot.send(chat, "Eve")
            await bot.press(chat, "E-mail")
            await bot.send(chat, "eve@example.org")
            await bot.press(chat, "Same as mine")
            await bot.press(chat, "30")
        luis = bot.new_chat()
        await bot.send(luis, f"/start {token}")
        assert "expired or was used already" in bot.last_text(luis)
        telegram = "select count(*) from caregivers where channel = 'telegram'"
        assert await admin_conn.fetchval(telegram) == 0


async def test_a_caregiver_who_sent_stop_and_opens_a_new_link_is_alerted_again_for_that_patient(
    bot: Bot, db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    """Opening a link is consent again, for the patient whose link it is: Luis, caregiver of two
    patients, sent /stop (both stopped); the second names him again and he opens her new link:
    her alerts reach him, the first patient's stay stopped, and /stop works as before.

    Before: his chat was opted out, so the /start was answered 'Messages are stopped here' and the
    link left unused."""
    first_chat, second_chat, luis = bot.new_chat(), bot.new_chat(), bot.new_chat()
    first = await registered_patient(bot, admin_conn, first_chat)
    second = await registered_patient(bot, admin_conn, second_chat)
    for chat in (first_chat, second_chat):
        await bot.send(luis, f"/start {await _telegram_caregiver(bot, chat)}")
    await bot.send(luis, "/stop")
    assert "You will not get any more messages here" in bot.last_text(luis)

    token = await _telegram_caregiver(bot, second_chat)
    await bot.send(luis, f"/start {token}")
    assert "You are now Ana's caregiver" in bot.last_text(luis), bot.last_text(luis)
    rows = await admin_conn.fetch(
        "select patient_id, opted_out_at is null as alerted from caregivers where active"
    )
    assert {r["patient_id"]: r["alerted"] for r in rows} == {
        first["id"]: False,
        second["id"]: True,
    }
    await factories.create_medication(admin_conn, second["id"], times=(time(8, 0), time(20, 0)))
    await run_planner_tick(db.pool, bot.clock.now, settings)
    await _miss_the_next_dose(db, settings, admin_conn)
    assert len(await messages(admin_conn, second["id"], "missed_dose_caregiver")) == 1

    await bot.send(luis, "/stop")
    assert "You will not get any more messages here" in bot.last_text(luis)
    assert not await admin_conn.fetchval(
        "select bool_or(opted_out_at is null) from caregivers where active"
    )


def _numbered(reply: str, label: str) -> str:
    """The number an SMS menu gives the option ``label`` ('3 Caregiver' -> '3')."""
    return next(line.split(" ", 1)[0] for line in reply.splitlines() if line.endswith(f" {label}"))


# A Telegram @username is up to 32 characters: the longest link /settings makes (98 characters).
LONGEST_LINK = "https://t.me/" + "b" * 32 + "?start=cg_" + "x" * 43
NAMES = [
    "Luis",
    "María José Fernández-Ñúñez de la Peña",
    "M" * 200,
    "👵" * 12,  # 24 UTF-16 units in 12 characters
    "A🇪🇸🇲🇽🇦🇷🇨🇴 Familia",  # flags, two regional indicators each: cut between two flags
]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", NAMES[:2])
async def test_a_patient_on_sms_gets_the_link_in_one_sms(
    bot: Bot, admin_conn: asyncpg.Connection, locale: str, name: str
) -> None:
    """A patient on SMS choosing a Telegram caregiver gets the link in one SMS the adapter takes
    (at most 3 segments). Before: the reply was 5 to 6 segments (UCS-2 in Spanish or with an
    accent in the name: 67 characters a segment), so it went as 2 or 3 SMS cut at sentence ends,
    and a long name cut the link itself in two."""
    (reply,) = await _link_over_sms(bot, admin_conn, locale, name)
    assert re.search(r"https://t\.me/medremind_test_bot\?start=cg_[\w-]{43}$", reply), reply
    assert await admin_conn.fetchval("select count(*) from caregiver_links") == 1


@pytest.mark.parametrize("locale", LOCALES)
async def test_emoji_in_the_name_leave_the_link_whole_in_one_sms(
    bot: Bot, admin_conn: asyncpg.Connection, locale: str
) -> None:
    """A caregiver named 'Abuelita👵👵👵👵👵 Rosa' and the bot with the longest @username (32).
    An emoji is two UTF-16 units in a UCS-2 SMS and the name was cut to 12 characters, not
    units: 'Abuelita👵👵👵👵' (16 units) made the text 205 units, four segments, and the reply went
    as two SMS split at the 150th character, through the link. Now the name is cut to 12 units
    ('Abuelita👵👵'): one SMS of three segments ending with the whole link."""
    bot.telegram.bot_user["username"] = "b" * 32
    replies = await _link_over_sms(bot, admin_conn, locale, "Abuelita👵👵👵👵👵 Rosa")
    assert len(replies) == 1, replies
    assert re.search(r"https://t\.me/b{32}\?start=cg_[\w-]{43}$", replies[0]), replies
    assert count_segments(replies[0]) == ("UCS-2", 3)
    assert "Abuelita👵👵 " in replies[0]


async def _link_over_sms(
    bot: Bot, admin_conn: asyncpg.Connection, locale: str, name: str
) -> list[str]:
    """A registered SMS patient names a Telegram caregiver ``name`` in /settings (their time
    zone, alerted after 30 min): the SMS bodies of the link's reply (after the zone's)."""
    number = "+15005550177"
    await registered_patient(bot, admin_conn, number, channel="sms", locale=locale)

    def said(replies: list[TwilioCall]) -> str:
        return "\n".join(c.body or "" for c in replies)

    menu = said(await bot.sms(number, "/settings"))
    await bot.sms(number, _numbered(menu, texts.text(locale, "btn_set_caregiver")))
    channels = said(await bot.sms(number, name))
    zones = said(await bot.sms(number, _numbered(channels, "Telegram")))
    await bot.sms(number, _numbered(zones, texts.text(locale, "btn_caregiver_tz_same")))
    replies = [c.body or "" for c in await bot.sms(number, "30")]
    # "Same as mine" is named first, in a message of its own: the link's SMS follow it.
    zone_kept = texts.text(locale, "caregiver_zone_kept", name=name, zone="UTC")
    assert replies[0] == zone_kept, replies
    return replies[1:]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", NAMES)
def test_the_link_message_fits_three_sms_segments_whatever_the_name(locale: str, name: str) -> None:
    """The longest link and a name of up to 200 characters in three SMS segments, as the
    caregiver relink message (d0ebc2e): a long name is given by its first word, cut to 12."""
    text = texts.text(
        locale,
        "caregiver_link",
        name=caregiver_links.short_name(name),
        link=LONGEST_LINK,
        days=caregiver_links.LIFETIME.days,
    )
    assert LONGEST_LINK in text
    assert channel_limit_problem("sms", text, sms_max_segments=3) is None, text
    shown = caregiver_links.short_name(name)
    assert sum(0x1F1E6 <= ord(ch) <= 0x1F1FF for ch in shown) % 2 == 0, shown  # no half flag
