"""Joining a clinic from a chat that already has a patient: one person stays one record.

A registered patient who opens a clinic's invite (``/start <token>``) is asked first; on yes,
their own record is merged into the clinic's (``public.merge_patient``: contact points,
medicines, schedules, dose history, caregivers, messages and this chat move, their own settings
win, a pause of either record holds: the one that lasts longer) and nothing is left behind that
sends. A patient who already belongs to a clinic keeps that record: one chat answers for one
clinic's record.
"""

from __future__ import annotations

from uuid import UUID

from bot.conversation import Turn
from bot.steps import Options, finish, goto, reprompt, step
from core.logs import mark_sensitive
from core.sql import query
from scheduler.holds import PausedBy, pause_reminders


async def offer_join(turn: Turn, token_hash: str) -> None:
    """``/start <token>`` from a chat whose patient has consented: offer to join the clinic."""
    assert turn.patient is not None
    invite = await turn.conn.fetchrow(query("bot", "find_invite_for_join"), token_hash, turn.now)
    patient_id = turn.patient["id"]
    invitee = invite["invitee_patient_id"] if invite is not None else None
    if invite is None or (invitee is not None and invitee != patient_id):
        finish(turn)
        turn.say(turn.t("join_invalid"))
        return
    mark_sensitive(invite["clinic"])
    if invite["patient_id"] == patient_id:
        finish(turn)
        turn.say(turn.t("welcome_back", name=turn.patient["display_name"] or ""))
        return
    if turn.patient["organization_id"] is not None:
        finish(turn)
        turn.say(turn.t("join_other_clinic", clinic=invite["clinic"]))
        return
    turn.conv.state["data"] = {"join_invite_id": str(invite["id"]), "clinic": invite["clinic"]}
    await goto(turn, "join_confirm")


async def join_prompt(turn: Turn) -> tuple[str, Options]:
    clinic = turn.conv.data.get("clinic", "")
    return turn.t("confirm_join", clinic=clinic), [
        (turn.t("btn_join", clinic=clinic), "join:yes"),
        (turn.t("btn_not_now"), "join:no"),
    ]


@step("join_confirm", join_prompt)
async def join_confirm(turn: Turn) -> None:
    if turn.choice == "join:no":
        finish(turn)
        turn.say(turn.t("join_declined"))
        return
    if turn.choice != "join:yes":
        await reprompt(turn, "bad_choice")
        return
    raw_id = turn.conv.data.get("join_invite_id")
    invite = (
        await turn.conn.fetchrow(query("bot", "lock_invite"), UUID(raw_id), turn.now)
        if raw_id
        else None
    )
    self_id = turn.conv.patient_id
    if (
        invite is None
        or self_id is None
        or turn.patient is None
        or turn.patient["organization_id"] is not None
        or (invite["invitee_patient_id"] is not None and invite["invitee_patient_id"] != self_id)
    ):
        finish(turn)
        turn.say(turn.t("join_invalid"))
        return
    clinic_record: UUID = invite["patient_id"]
    await turn.conn.execute(query("bot", "merge_patient"), self_id, clinic_record, turn.now)
    await turn.conn.execute(query("bot", "use_invite"), invite["id"], turn.now)
    await turn.conn.execute(
        query("bot", "audit"),
        invite["organization_id"],
        "patient.joined",
        "patient",
        str(clinic_record),
    )
    # The person writing is the clinic's record now: it reached them (migration 20260101013800).
    await turn.conn.execute(query("bot", "link_patient"), clinic_record, turn.now)
    turn.conv.patient_id = clinic_record
    turn.patient = await turn.conn.fetchrow(query("bot", "get_patient"), clinic_record)
    until = turn.patient["reminders_paused_until"]
    if turn.patient["reminders_paused"] and (until is None or until > turn.now):
        # The merge kept the pause (migration 20260101018300) and who set it (20260101018750);
        # what the record that was not paused had pending moved with it: withdrawn now, as a
        # /pause does, in the name of whoever paused (the clinic's pause is not the patient's
        # doing). An end already past is the planner's next tick's to end.
        by: PausedBy = "clinic" if turn.patient["reminders_paused_by"] == "clinic" else "patient"
        await pause_reminders(turn.conn, clinic_record, turn.now, until=until, by=by)
    clinic = turn.conv.data.get("clinic", "")
    finish(turn)
    turn.say(turn.t("joined", clinic=clinic))
