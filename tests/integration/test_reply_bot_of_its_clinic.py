"""A clinician's message goes through the service's bots or their own clinic's, never another
clinic's (migration 20260101011500).

A bot reply row (``conversation_id`` set) is sent through the bot its payload names
(``telegram_bot``). A clinician may write such a row for their own patient's chat through
PostgREST (role ``authenticated``, the dashboard's and every clinician's way in), and the bot
was not checked: clinic A could message its patient's chat through clinic B's own bot (a bot's
id is public), in B's name and with B's token. A Telegram chat id is the person's with every
bot, so the text reaches a person who is also B's patient as if B had sent it.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician

SERVICE_BOT = "700100"
BOT_A = "700200"
BOT_B = "700300"
CHAT = "555300001"


async def _world(conn: asyncpg.Connection) -> dict[str, Any]:
    """Clinics A and B, each with its own bot; A's patient has a chat on the service's bot."""
    ids: dict[str, Any] = {}
    for side, bot in (("a", BOT_A), ("b", BOT_B)):
        org = await factories.create_organization(conn)
        ids[side] = org["id"]
        await conn.execute(
            "insert into clinic_provider_accounts (organization_id, channel, config, secret,"
            " secret_hint, validated_at, updated_by)"
            " values ($1, 'telegram', $2, 'sealed', '...', now(), 'test')",
            org["id"],
            {"bot_id": bot, "username": f"clinic_{side}_bot"},
        )
    ids["clinician"] = (await factories.create_clinician(conn, ids["a"]))["id"]
    ids["patient"] = (await factories.create_patient(conn, ids["a"], contacts={"telegram": CHAT}))[
        "id"
    ]
    ids["conversation"] = await conn.fetchval(
        "insert into conversations (channel, chat_address, patient_id)"
        " values ('telegram', $1, $2) returning id",
        CHAT,
        ids["patient"],
    )
    return ids


INSERT = """
insert into scheduled_messages (organization_id, patient_id, conversation_id, platform, kind,
                                message_content, payload)
values ($1, $2, $3, 'telegram', 'free_text', 'Your appointment is cancelled.', $4)
returning id
"""


async def test_a_clinicians_reply_through_another_clinics_bot_is_refused(
    admin_conn: asyncpg.Connection,
) -> None:
    w = await _world(admin_conn)
    args = (w["a"], w["patient"], w["conversation"])
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="another clinic's Telegram bot"):
        async with as_clinician(admin_conn, w["clinician"]) as conn:
            await conn.fetchval(INSERT, *args, {"telegram_bot": BOT_B})
    # Nor by changing a row of their own afterwards.
    async with as_clinician(admin_conn, w["clinician"]) as conn:
        own = await conn.fetchval(INSERT, *args, {"telegram_bot": BOT_A})
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="another clinic's Telegram bot"):
        async with as_clinician(admin_conn, w["clinician"]) as conn:
            await conn.execute(
                "update scheduled_messages set payload = payload || $2 where id = $1",
                own,
                {"telegram_bot": BOT_B},
            )
    bots = await admin_conn.fetch(
        "select payload->>'telegram_bot' as bot from scheduled_messages where conversation_id = $1",
        w["conversation"],
    )
    assert [r["bot"] for r in bots] == [BOT_A]


@pytest.mark.parametrize("bot", [BOT_A, SERVICE_BOT], ids=["own clinic's bot", "service's bot"])
async def test_a_clinicians_reply_through_their_own_or_the_services_bot_is_accepted(
    admin_conn: asyncpg.Connection, bot: str
) -> None:
    w = await _world(admin_conn)
    async with as_clinician(admin_conn, w["clinician"]) as conn:
        row = await conn.fetchval(
            INSERT, w["a"], w["patient"], w["conversation"], {"telegram_bot": bot}
        )
    assert isinstance(row, uuid.UUID)


async def test_the_services_own_reply_on_a_clinics_bot_is_not_checked(
    admin_conn: asyncpg.Connection,
) -> None:
    """The web writes replies as the service (a stranger registering on clinic B's bot has no
    clinic yet): the check is for clinicians' rows only."""
    w = await _world(admin_conn)
    stranger = await admin_conn.fetchval(
        "insert into conversations (channel, chat_address) values ('telegram', '555300002')"
        " returning id"
    )
    await admin_conn.execute("set role medremind_app")
    try:
        await admin_conn.execute(
            "insert into scheduled_messages (conversation_id, platform, kind, message_content,"
            " payload) values ($1, 'telegram', 'system', 'Welcome', $2)",
            stranger,
            {"telegram_bot": BOT_B},
        )
    finally:
        await admin_conn.execute("reset role")
    assert w["b"] is not None
