"""`/app` sends a one-time sign-in link to the patient app into this chat (any channel, so a
Telegram-only patient can sign in too); `/app_signout` ends every app session of the patient.

The link needs ``PUBLIC_BASE_URL`` (the address patients reach the web process at); under
``medremind dev`` without one, the link is its loopback address (``Settings.app_base_url``).
"""

from __future__ import annotations

from bot.conversation import Turn
from bot.steps import command, finish
from core.sign_in_links import LINK_MINUTES, issue_link, link_url, revoke_sessions


@command("app")
async def app_link(turn: Turn, arg: str) -> None:
    """A sign-in link for the patient app, valid once for a few minutes."""
    finish(turn)
    base = turn.ctx.settings.app_base_url
    if not base or turn.conv.patient_id is None:
        turn.say(turn.t("app_not_available"))
        return
    issued = await issue_link(turn.conn, turn.conv.patient_id, turn.conv.channel.value, turn.now)
    if issued is None:
        turn.say(turn.t("app_link_limit"))
        return
    _, token, _ = issued
    turn.say(turn.t("app_link", minutes=LINK_MINUTES, link=link_url(base, token)))


@command("app_signout")
async def app_signout(turn: Turn, arg: str) -> None:
    """Sign out of the patient app everywhere."""
    finish(turn)
    assert turn.conv.patient_id is not None  # a command that needs the chat's patient
    count = await revoke_sessions(turn.conn, turn.conv.patient_id, turn.now)
    turn.say(turn.t("app_signed_out", count=count))
