# ruff: noqa: E501  (user-facing sentences read better unbroken)
"""Texts of pausing all reminders, deleting one's data and the patient web app links.

One of the tables :mod:`bot.texts` merges; ``EN`` and ``ES`` hold the same keys.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # Pause / delete
    "paused_all": "All reminders are paused. Send /resume to restart them.",
    # Followed by when they come back (or that they do not) and how to have them sooner.
    "paused_all_noted": "All reminders are paused.",
    "paused_caregiver": "{name} will not get missed-dose alerts while they are paused.",
    # "/pause 3 days", "/pause until 3/15": the pause ends by itself (scheduler/pause_ends.py);
    # a length at the same time of day, a date at its start (bot/dialogs/account.py).
    "pause_ends_at": "They come back by themselves on {date} at {time}. Send /resume to have them sooner.",
    "pause_ends_on": "They come back by themselves at the start of {date}. Send /resume to have them sooner.",
    # An end not read ("until I feel better") or a day already here: the pause stays open.
    "pause_no_end": "This pause has no end date: they stay off until you send /resume.",
    # An end date typed that is no day ahead: nothing is paused (bot.dialogs.account._no_day_ahead).
    "pause_day_passed": "{date} has already passed, so nothing was changed.",
    "pause_day_today": "{date} is today, so nothing was changed.",
    "pause_day_unread": "I couldn't read {typed} as a date, so nothing was changed.",
    # "/pause until tonight" said after tonight's start (bot.pause_moment): nothing paused.
    "pause_time_passed": "It is already past {time} today, so nothing was changed.",
    # "/pause until tomorrow morning" before dawn: today's morning or the next (bot.pause_moment).
    "ask_pause_dawn_pick": "It is {now} now, so that could mean today or tomorrow: nothing is paused yet. Until which day should they stay off?",
    # "/pause a few days", "for a while": how many asked, nothing paused yet (bot.dialogs.pause_count).
    "ask_pause_days": "How many days should your reminders stay off? Reply with a number, for example 3. Nothing is paused yet.",
    "ask_pause_weeks": "How many weeks should your reminders stay off? Reply with a number, for example 2. Nothing is paused yet.",
    "pause_count_days_one": "1 day",
    "pause_count_days": "{n} days",
    "pause_count_weeks_one": "1 week",
    "pause_count_weeks": "{n} weeks",
    "pause_day_ahead": "To pause your reminders until a day ahead, send for example /pause until {example}, or /pause 3 days.",
    # "/pause until 4/3", both readings ahead: nothing paused until one is picked.
    "ask_pause_day_pick": "{typed} could be either date, so nothing is paused yet. Until which day should they stay off?",
    # "/pause until 4/3" read as today, the other way round ahead: nothing paused until it is picked.
    "ask_pause_other_day": "{typed} read as {today} is today, so nothing is paused yet. Did you mean {date}?",
    "pause_other_day_declined": "Nothing was changed.",
    # An end more than 31 days ahead ("/pause until 2/3" on 2 March, month first): nothing is
    # paused until Yes (bot.dialogs.pause_far). {length} is one of the three below.
    "ask_pause_far": "That pauses all reminders for {length}, until {date}. Pause that long?",
    # After ask_pause_other_day when that day is more than 31 days ahead.
    "pause_far_length": "That pauses all reminders for {length}.",
    "pause_far_days": "{n} days",
    "pause_far_months": "{n} months",
    "pause_far_years": "{n} years",
    "pause_far_declined": "Nothing was changed. To pause your reminders until a nearer day, send for example /pause until {example}, or /pause 3 days.",
    # "/pause 30 min", "pause for an hour": a pause is by days (bot.dialogs.pause_short). One SMS
    # segment (160 GSM-7 letters) with a snooze of up to 720 minutes.
    "pause_short_break": 'A pause is by days, so nothing was changed. For a short break, reply "snooze {minutes}" to a reminder: it comes back {minutes} min later. For a day off, send /pause 1 day.',
    "pause_short_while_paused": "Your reminders are already paused, so nothing was changed. Send /resume to have them back.",
    "pause_long_break_one": 'A pause is by days, so nothing was changed. For a day off, send /pause 1 day; one reminder can be snoozed up to {hours} hours ("snooze {minutes}").',
    "pause_long_break": 'A pause is by days, so nothing was changed. For {n} days off, send /pause {n} days; one reminder can be snoozed up to {hours} hours ("snooze {minutes}").',
    "resumed_all": "Reminders are back on.",
    "resumed_not_paused": "Your reminders are on: they were not paused.",
    # "pause metformin" without the slash: one medicine is paused in /meds, not by /pause.
    "pause_one_hint": "To pause one medicine, send /meds and pick it there. To pause all your reminders, send /pause.",
    "resume_one_hint": "To resume one medicine, send /meds and pick it there. To resume all your reminders, send /resume.",
    # "Stop" typed on Telegram, where /stop opts out (bot.engine): how, and the pause beside it.
    "stop_hint": "To stop every message from me, send /stop. To pause only your reminders, send /pause.",
    # A medicine paused on its own in /meds stays paused after /resume: named, so it is not missed.
    "resumed_meds_paused_one": "{names} stays paused: resume it in /meds.",
    "resumed_meds_paused": "{names} stay paused: resume them in /meds.",
    # The patient web app (/app, /app_signout)
    "app_link": "Your MedRemind app sign-in link (works once, for {minutes} minutes): {link}",
    "app_link_limit": "I sent you several sign-in links just now. Please use the newest one, or try again in 15 minutes.",
    "app_not_available": "The MedRemind web app is not set up for this service yet.",
    "app_signed_out": "Signed out of the MedRemind app on every device ({count}).",
    "confirm_delete_me": "This deletes your medicines, history and settings for good. Are you sure?",
    "btn_delete_yes": "Yes, delete everything",
    "deleted_me": "Your data has been deleted. Send /start if you want to come back.",
    "delete_kept": "Nothing was deleted.",
}

ES: dict[str, str] = {
    "paused_all": "Todos los recordatorios están en pausa. Envía /resume para reanudarlos.",
    "paused_all_noted": "Todos los recordatorios están en pausa.",
    "paused_caregiver": "{name} no recibirá avisos de dosis olvidadas mientras estén en pausa.",
    "pause_ends_at": "Se reanudarán solos el {date} a {time:hour_article} {time}. Envía /resume para reanudarlos antes.",
    "pause_ends_on": "Se reanudarán solos al empezar el {date}. Envía /resume para reanudarlos antes.",
    "pause_no_end": "Esta pausa no tiene fecha de fin: siguen en pausa hasta que envíes /resume.",
    "pause_day_passed": "El {date} ya ha pasado, así que no he cambiado nada.",
    "pause_day_today": "El {date} es hoy, así que no he cambiado nada.",
    "pause_day_unread": "No he podido leer {typed} como una fecha, así que no he cambiado nada.",
    "pause_time_passed": "Hoy ya es más tarde {time:de}, así que no he cambiado nada.",
    "ask_pause_dawn_pick": "Ahora {now:son}, así que puede ser hoy o mañana: aún no he pausado nada. ¿Hasta qué día deben quedar en pausa?",
    "ask_pause_days": "¿Cuántos días deben quedar en pausa tus recordatorios? Responde con un número, por ejemplo 3. Aún no he pausado nada.",
    "ask_pause_weeks": "¿Cuántas semanas deben quedar en pausa tus recordatorios? Responde con un número, por ejemplo 2. Aún no he pausado nada.",
    "pause_count_days_one": "1 día",
    "pause_count_days": "{n} días",
    "pause_count_weeks_one": "1 semana",
    "pause_count_weeks": "{n} semanas",
    "pause_day_ahead": "Para pausar tus recordatorios hasta un día que aún no ha llegado, envía por ejemplo /pausa hasta el {example}, o /pausa 3 días.",
    "ask_pause_day_pick": (
        "{typed} puede ser cualquiera de estas fechas, así que aún no he pausado nada."
        " ¿Hasta qué día quieres pausarlos?"
    ),
    "ask_pause_other_day": "{typed} leído como el {today} es hoy, así que aún no he pausado nada. ¿Querías decir el {date}?",
    "pause_other_day_declined": "No he cambiado nada.",
    "ask_pause_far": "Eso pausa todos los recordatorios durante {length}, hasta el {date}. ¿Pausarlos tanto tiempo?",
    "pause_far_length": "Eso pausa todos los recordatorios durante {length}.",
    "pause_far_days": "{n} días",
    "pause_far_months": "{n} meses",
    "pause_far_years": "{n} años",
    "pause_far_declined": "No he cambiado nada. Para pausar tus recordatorios hasta un día más cercano, envía por ejemplo /pausa hasta el {example}, o /pausa 3 días.",
    "pause_short_break": 'Una pausa es por días: no he cambiado nada. Para un rato, responde "posponer {minutes}" a un recordatorio y vuelve {minutes} min después. Para un día, envía /pausa 1 día.',
    "pause_short_while_paused": "Tus recordatorios ya están en pausa, así que no he cambiado nada. Envía /resume para reanudarlos.",
    "pause_long_break_one": 'Una pausa es por días: no he cambiado nada. Para un día, envía /pausa 1 día; un recordatorio se puede posponer hasta {hours} horas ("posponer {minutes}").',
    "pause_long_break": 'Una pausa es por días: no he cambiado nada. Para {n} días, envía /pausa {n} días; un recordatorio se puede posponer hasta {hours} horas ("posponer {minutes}").',
    "resumed_all": "Los recordatorios vuelven a estar activos.",
    "resumed_not_paused": "Tus recordatorios están activos: no estaban en pausa.",
    "pause_one_hint": "Para pausar un medicamento, envía /meds y elígelo allí. Para pausar todos tus recordatorios, envía /pause.",
    "resume_one_hint": "Para reanudar un medicamento, envía /meds y elígelo allí. Para reanudar todos tus recordatorios, envía /resume.",
    "stop_hint": "Para no recibir ningún mensaje mío, envía /stop. Para pausar solo tus recordatorios, envía /pause.",
    "resumed_meds_paused_one": "{names} sigue en pausa: reanúdalo en /meds.",
    "resumed_meds_paused": "{names} siguen en pausa: reanúdalos en /meds.",
    "app_link": "Tu enlace para entrar en la app de MedRemind (un solo uso, {minutes} minutos): {link}",
    "app_link_limit": "Te he enviado varios enlaces hace poco. Usa el más reciente o inténtalo de nuevo en 15 minutos.",
    "app_not_available": "La app web de MedRemind aún no está disponible en este servicio.",
    "app_signed_out": "Sesión cerrada en la app de MedRemind en todos los dispositivos ({count}).",
    "confirm_delete_me": "Esto borra para siempre tus medicamentos, historial y ajustes. ¿Seguro?",
    "btn_delete_yes": "Sí, borrarlo todo",
    "deleted_me": "Tus datos se han borrado. Envía /start si quieres volver.",
    "delete_kept": "No se ha borrado nada.",
}
