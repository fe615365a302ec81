"""Texts of /today, /stats and /export.

One of the tables :mod:`bot.texts` merges; ``EN`` and ``ES`` hold the same keys.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # "/history", "my history" (bot.dialogs.reports.history): no such command, what there is.
    "history_where": (
        "Your history: /today shows today's doses and /stats how you are doing over the last"
        " 7 and 30 days."
    ),
    "history_where_files": (
        "Your history: /today shows today's doses, /stats how you are doing over the last"
        " 7 and 30 days, and /export sends all of it as a CSV file."
    ),
    "today_none": "No doses planned for today.",
    # /today while every reminder is paused (/pause): the doses it cancelled are not listed.
    "today_paused": "Your reminders are paused: send /resume to have them back.",
    "today_paused_until": (
        "Your reminders are paused until {date} at {time}: send /resume to have them sooner."
    ),
    "today_header": "Today, {date}:",
    # Doses of an earlier day still waiting for an answer, listed before today's.
    "today_earlier_header": "Still open from {day}:",
    "today_line": "{time} {name}: {status}",
    "stats_period": "Last {days} days: {percent}% of doses taken.",
    "stats_period_none": "Last {days} days: no doses to count yet.",
    "stats_streak": "Current streak: {streak} days with every dose taken.",
    "stats_streak_one": "Current streak: 1 day with every dose taken.",
    "stats_chart_title": "Doses taken per day (%)",
    "export_ready": "Here is your history ({count} doses).",
    "export_ready_one": "Here is your history (1 dose).",
    "files_unavailable": "I can send charts and files on Telegram only.",
    "export_too_large": (
        "Your history ({count} doses) makes a file of {megabytes} MB, more than the {limit} MB"
        " I can send. Please ask your clinic for an export."
    ),
}

ES: dict[str, str] = {
    "history_where": (
        "Tu historial: /today muestra las dosis de hoy y /stats cómo vas en los últimos"
        " 7 y 30 días."
    ),
    "history_where_files": (
        "Tu historial: /today muestra las dosis de hoy, /stats cómo vas en los últimos"
        " 7 y 30 días, y /export te lo envía entero en un archivo CSV."
    ),
    "today_none": "No hay dosis previstas para hoy.",
    "today_paused": "Tus recordatorios están en pausa: envía /resume para reanudarlos.",
    "today_paused_until": (
        "Tus recordatorios están en pausa hasta el {date} a {time:hour_article} {time}:"
        " envía /resume para reanudarlos antes."
    ),
    "today_header": "Hoy, {date}:",
    "today_earlier_header": "Pendientes del {day}:",
    "today_line": "{time} {name}: {status}",
    "stats_period": "Últimos {days} días: {percent}% de dosis tomadas.",
    "stats_period_none": "Últimos {days} días: aún no hay dosis que contar.",
    "stats_streak": "Racha actual: {streak} días con todas las dosis tomadas.",
    "stats_streak_one": "Racha actual: 1 día con todas las dosis tomadas.",
    "stats_chart_title": "Dosis tomadas por día (%)",
    "export_ready": "Aquí tienes tu historial ({count} dosis).",
    "export_ready_one": "Aquí tienes tu historial (1 dosis).",
    "files_unavailable": "Solo puedo enviar gráficos y archivos por Telegram.",
    "export_too_large": (
        "Tu historial ({count} dosis) ocupa {megabytes} MB, más de los {limit} MB que puedo"
        " enviar. Pide una exportación a tu clínica."
    ),
}
