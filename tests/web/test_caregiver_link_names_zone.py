"""A Telegram caregiver chosen "Same as mine" is told which zone their nights are counted in, as
an SMS, WhatsApp or e-mail caregiver's "Saved." says it.

The caregiver's zone is the patient's home zone as it is now, kept when the patient travels
(migration 20260101016800). The other channels' confirmation names it, so a wrong one can be
corrected; a Telegram caregiver's answer is the link to forward, and it named no zone. Through
the web process's Telegram webhook, in English and Spanish.
"""

from __future__ import annotations

from datetime import time

import asyncpg
import httpx
import pytest

from scheduler.planner import replan_patient
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.web.chat import START, telegram_press, telegram_text

CHAT = 555_150_401


@pytest.mark.parametrize(
    ("locale", "labels", "note"),
    [
        (
            "en",
            ("Caregiver", "Telegram", "Same as mine", "30"),
            "Luis's night is counted in New York, your home time zone, even when you travel.",
        ),
        (
            "es",
            ("Cuidador", "Telegram", "Igual que yo", "30"),
            "La noche de Luis se cuenta en Nueva York, tu zona horaria de casa, aunque viajes.",
        ),
    ],
)
async def test_the_link_offer_names_the_zone_kept(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    org: asyncpg.Record,
    locale: str,
    labels: tuple[str, ...],
    note: str,
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        org["id"],
        contacts={"telegram": str(CHAT)},
        locale=locale,
        timezone="America/New_York",
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(15, 0),))
    await replan_patient(admin_conn, patient["id"], START)  # pins the home zone, New York

    def sent() -> list[str]:
        return [c.text or "" for c in fake_telegram.sent_messages if str(c.chat_id) == str(CHAT)]

    async def press(label: str) -> None:
        for call in reversed(fake_telegram.sent_messages):
            for row in call.buttons():
                for text, data in row:
                    if text == label:
                        await telegram_press(web, CHAT, data)
                        return
        raise AssertionError(f"no button {label!r}")

    await telegram_text(web, CHAT, "/settings")
    await press(labels[0])
    await telegram_text(web, CHAT, "Luis")
    await press(labels[1])
    await press(labels[2])
    before = len(sent())
    await press(labels[3])
    said = sent()[before:]
    assert len(said) == 2 and "https://t.me/medremind_test_bot?start=cg_" in said[1], said
    assert said[0] == note
