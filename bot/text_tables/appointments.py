# ruff: noqa: E501  (user-facing sentences read better unbroken)
"""Texts of the appointment list and the confirm / reschedule / cancel answers.

One of the tables :mod:`bot.texts` merges; ``EN`` and ``ES`` hold the same keys.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "no_appointments": "You have no upcoming appointments.",
    "appointment_line": "{date} {time}, {clinic}{where}",
    # The clinic's time and the patient's own, when their zones differ (bot/appointment_when.py).
    "appt_time_zones": "{time} {zone} time ({your_time} your time)",
    "appt_your_day": "{time} {day}",
    "appt_sms_hint": "For the next one, reply C to confirm, R to reschedule or X to cancel.",
    "btn_confirm": "Confirm",
    "btn_reschedule": "Ask to reschedule",
    "btn_cancel_appt": "Cancel appointment",
    "appt_confirmed": "Confirmed: {date} {time}. See you there!",
    "appt_reschedule": "I've asked the clinic to reschedule your {date} appointment. They will contact you.",
    "appt_cancelled": "Your {date} appointment is cancelled.",
    "appt_unknown": "That appointment is no longer active.",
}

ES: dict[str, str] = {
    "no_appointments": "No tienes próximas citas.",
    "appointment_line": "{date} {time}, {clinic}{where}",
    "appt_time_zones": "{time}, hora de {zone} (tu hora: {your_time})",
    "appt_your_day": "{time} del {day}",
    "appt_sms_hint": "Para la próxima, responde C para confirmar, R para cambiarla o X para anularla.",
    "btn_confirm": "Confirmar",
    "btn_reschedule": "Pedir otra fecha",
    "btn_cancel_appt": "Anular la cita",
    "appt_confirmed": "Confirmada: {date} {time}. ¡Hasta pronto!",
    "appt_reschedule": "He pedido a la clínica cambiar tu cita del {date}. Se pondrán en contacto contigo.",
    "appt_cancelled": "Tu cita del {date} está anulada.",
    "appt_unknown": "Esa cita ya no está activa.",
}
