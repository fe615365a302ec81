"""Service notices that carry a one-time link, and when the clinic may read them.

Two links reach a patient in the text of a service notice (kind ``system``): the sign-in link to
the patient app (:mod:`core.sign_in_links`: the sign-in request's notice, the bot's ``/app``
answer) and a Telegram caregiver's link (``bot.dialogs.caregiver_links``: the bot's answer in
/settings, the worker's relink offer). Whoever opens one first signs in as the patient, or becomes
their caregiver, so the clinic, which reads its patients' messages, must not see it while it
works: the database hides such a notice from the dashboard and the API
(``public.message_holds_live_link``, migrations 20260101015400 and 20260101015570) for the
link's lifetime, unless spent before. Spending a link rewrites every notice holding it
(:func:`scrub_spent_link`), which then shows again.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from core.sql import query

# What precedes the token in each link (the database's function looks for the same).
SIGN_IN_MARKER = "/app/#sign-in="
CAREGIVER_MARKER = "?start="
# What a notice reads once its link is spent.
SIGN_IN_USED = "MedRemind sign-in link (used)"
CAREGIVER_USED = "MedRemind caregiver link (used)"


async def scrub_spent_link(
    conn: asyncpg.Connection, patient_id: UUID, marker: str, token: str, used_text: str
) -> None:
    """Rewrite every service notice of ``patient_id`` holding ``marker + token`` to
    ``used_text``: the link was spent, and the clinic may read the message again."""
    await conn.execute(query("messages", "scrub_spent_link"), patient_id, marker + token, used_text)


__all__ = [
    "CAREGIVER_MARKER",
    "CAREGIVER_USED",
    "SIGN_IN_MARKER",
    "SIGN_IN_USED",
    "scrub_spent_link",
]
