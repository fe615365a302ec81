"""Dialogs: importing this package registers every step and command with :mod:`bot.steps`."""

from bot.dialogs import (  # noqa: F401
    account,
    answers,
    app,
    appointments,
    joining,
    medicine_dates,
    medicine_pause,
    medicines,
    onboarding,
    pause_count,
    pause_dates,
    pause_far,
    preferences,
    reports,
    settings,
    zone_moves,
)
