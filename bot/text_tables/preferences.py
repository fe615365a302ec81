# ruff: noqa: E501  (user-facing sentences read better unbroken)
"""Texts of the preferences in /settings: which messages (per category), on which channel, and
when appointment reminders come.

One of the tables :mod:`bot.texts` merges; ``EN`` and ``ES`` hold the same keys.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "prefs_summary": "Messages: {categories}\nAppointment reminders: {offsets}",
    "prefs_summary_own": "Messages: {categories}",
    "btn_set_messages": "Which messages",
    "btn_set_appt_times": "Appointment reminder times",
    "cat_medication": "Medication reminders",
    "cat_appointments": "Appointment reminders",
    "cat_clinic_news": "Clinic news",
    "pref_on": "on",
    "pref_off": "off",
    "pref_via": "{state} (via {channel})",
    "ask_category": "Which messages do you want to change?\n{lines}",
    "ask_category_choice": "{category}: now {state}. What would you like?",
    "btn_pref_in": "Send them",
    "btn_pref_out": "Stop them",
    "btn_pref_channel": "Send them by {channel}",
    "btn_pref_any_channel": "Any of my channels",
    "pref_saved_out": "Saved. {category}: off. You can turn them on again in /settings.",
    "pref_saved_in": "Saved. {category}: on.",
    "offsets_clinic": "the clinic's ({times})",
    "offsets_mine": "{times} before",
    "hours_short": "{n} h",
    "minutes_short": "{n} min",
    "ask_appt_offsets": "Appointment reminders now: {current}. When should they come? Type hours before the appointment, like 24 2 (a day and two hours before), or choose:",
    # SMS, WhatsApp, console: a number typed is hours, so no menu is numbered (bot.dialogs.preferences).
    "ask_appt_offsets_numbered": "Appointment reminders now: {current}. When should they come? Type the hours before the appointment: 24 2 for a day and 2 hours before, 24 for a day before, 2 for 2 hours before (30m for minutes). Or reply CLINIC for the clinic's times.",
    "btn_offsets_24_2": "24 h and 2 h before",
    "btn_offsets_24": "A day before",
    "btn_offsets_2": "2 h before",
    "btn_offsets_clinic": "The clinic's times",
    "bad_offsets": "Please type up to 6 numbers of hours from 1 to 336, like 24 2 (or 30m for minutes).",
}

ES: dict[str, str] = {
    "prefs_summary": "Mensajes: {categories}\nRecordatorios de citas: {offsets}",
    "prefs_summary_own": "Mensajes: {categories}",
    "btn_set_messages": "Qué mensajes",
    "btn_set_appt_times": "Horas de recordatorio de citas",
    "cat_medication": "Recordatorios de medicación",
    "cat_appointments": "Recordatorios de citas",
    "cat_clinic_news": "Noticias de la clínica",
    "pref_on": "activados",
    "pref_off": "desactivados",
    "pref_via": "{state} (por {channel})",
    "ask_category": "¿Qué mensajes quieres cambiar?\n{lines}",
    "ask_category_choice": "{category}: ahora {state}. ¿Qué prefieres?",
    "btn_pref_in": "Enviarlos",
    "btn_pref_out": "No enviarlos",
    "btn_pref_channel": "Enviarlos por {channel}",
    "btn_pref_any_channel": "Cualquiera de mis canales",
    "pref_saved_out": "Guardado. {category}: desactivados. Puedes activarlos de nuevo en /settings.",
    "pref_saved_in": "Guardado. {category}: activados.",
    "offsets_clinic": "los de la clínica ({times})",
    "offsets_mine": "{times} antes",
    "hours_short": "{n} h",
    "minutes_short": "{n} min",
    "ask_appt_offsets": "Recordatorios de citas ahora: {current}. ¿Cuándo deben llegar? Escribe horas antes de la cita, como 24 2 (un día y dos horas antes), o elige:",
    "ask_appt_offsets_numbered": "Recordatorios de citas ahora: {current}. ¿Cuándo deben llegar? Escribe las horas antes de la cita: 24 2 para un día y 2 horas antes, 24 para un día antes, 2 para 2 horas antes (30m para minutos). O responde CLINICA para los de la clínica.",
    "btn_offsets_24_2": "24 h y 2 h antes",
    "btn_offsets_24": "Un día antes",
    "btn_offsets_2": "2 h antes",
    "btn_offsets_clinic": "Los de la clínica",
    "bad_offsets": "Escribe hasta 6 números de horas del 1 al 336, como 24 2 (o 30m para minutos).",
}
