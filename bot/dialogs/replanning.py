"""Re-planning a patient's reminders from a dialog, the moment a setting they depend on changes.

The zone, the zone mode, quiet hours and the follow-up settings decide when reminders and
follow-ups go out. The API re-plans when a clinic changes them; the bot does the same for the
patient's own changes: waiting for the planner's next tick would send what was planned under the
old settings meanwhile (a follow-up inside quiet hours just set, a traveller's reminders at the
old zone's times for the next two days).
"""

from __future__ import annotations

from datetime import timedelta

from bot.conversation import Turn
from scheduler.planner import replan_patient
from scheduler.planning_peaks import PeakCapacity


async def replan_now(turn: Turn, *, move_home: bool = False) -> None:
    """Re-plan the turn's patient's schedules, open doses and follow-ups at ``turn.now``;
    ``move_home``: their current zone is their home from now on (they moved there)."""
    if turn.conv.patient_id is None:
        return  # onboarding before the patient exists: nothing is planned yet
    settings = turn.ctx.settings
    await replan_patient(
        turn.conn,
        turn.conv.patient_id,
        turn.now,
        horizon=timedelta(hours=settings.planner_horizon_hours),
        move_home=move_home,
        default_quiet=(settings.quiet_hours_start, settings.quiet_hours_end),
        capacity=PeakCapacity.from_settings(settings),
    )
