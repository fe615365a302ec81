"""Re-planning a patient's reminders from a dialog, the moment a setting they depend on changes.

The zone, the zone mode, quiet hours and the follow-up settings decide when reminders and
follow-ups go out. The API re-plans when a clinic changes them; the bot does the same for the
patient's own changes: waiting for the planner's next tick would send what was planned under the
old settings meanwhile (a follow-up inside quiet hours just set, a traveller's reminders at the
old zone's times for the next two days).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from bot.conversation import Turn
from scheduler.planner import replan_patient, replan_schedule
from scheduler.planning_peaks import PeakCapacity

logger = logging.getLogger(__name__)


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


async def replan_schedules(turn: Turn, schedule_ids: list[UUID]) -> None:
    """Plan a medicine's changed schedules now (added, paused, resumed, new times, deleted);
    never fails the turn: the planner's periodic tick plans them anyway."""
    # In a forecast peak, new routine reminders leave early by the clinic's window, as planned
    # by the tick (scheduler/planning_peaks.py).
    settings = turn.ctx.settings
    capacity = PeakCapacity.from_settings(settings)
    # A "reminders are back on" still waiting goes before the first reminder at the new times.
    default_quiet = (settings.quiet_hours_start, settings.quiet_hours_end)
    for schedule_id in schedule_ids:
        try:
            async with turn.conn.transaction():
                await replan_schedule(
                    turn.conn,
                    schedule_id,
                    turn.now,
                    capacity=capacity,
                    default_quiet=default_quiet,
                )
        except Exception as exc:
            logger.warning("replan failed", extra={"error_class": type(exc).__name__})
