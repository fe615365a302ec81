"""Texts of answering a reminder: dose answers, waitlist offers, what is waiting for an answer.

One of the tables :mod:`bot.texts` merges; ``EN`` and ``ES`` hold the same keys.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "answer_taken": "Taken at {time}: {what}. Well done!",
    "answer_snoozed": "OK, I'll remind you again at {time} about {what}.",
    "answer_snoozed_day": "OK, I'll remind you again on {day} at {time} about {what}.",
    # The clocks change before it comes back: "again at 2:30 AM", said at 2:30 AM the night
    # Berlin falls back, read as now (bot.dialogs.answers.snoozed_text).
    "answer_snoozed_clocks": (
        "OK, I'll remind you again in {n} min about {what} (at {time}: the clocks change tonight)."
    ),
    "answer_skipped": "Skipped: {what}. I've noted it.",
    "answer_snooze_too_late": (
        "It is too late to snooze {what}: no reminder will come back for it. If you took it,"
        " answer Taken."
    ),
    "btn_taken": "Taken",
    "btn_snooze_n": "Snooze {n} min",
    "snooze_minutes_range": (
        'A snooze can be {low} to {high} minutes ({hours} hours). Send, for example, "snooze 90".'
    ),
    "answer_already": "This dose was already recorded as {status}: {what}.",
    "answer_unknown": "That reminder is no longer active.",
    "answer_medicine_deleted": (
        "That medicine is no longer in your list, so nothing was recorded. /meds shows your"
        " medicines."
    ),
    "offer_booked": "It's yours: see you on {date} at {time}.",
    "offer_taken": "Sorry, someone accepted that appointment first. You stay on the waitlist.",
    "offer_expired": "Sorry, that appointment can no longer be booked.",
    "offer_declined": "OK, you stay on the waitlist.",
    "no_open_dose": "There is no dose waiting for an answer right now.",
    "nothing_waiting": (
        "Nothing is waiting for an answer right now. Send /help to see what I can do."
    ),
    "can_answer_now": "Sorry, I didn't understand that. You can answer {what}:",
    "more_waiting": "({n} more waiting after this one.)",
    "also_waiting": "Also waiting for your answer: {what}. Reply {answers}.",
    # After a reply that asks its own question (Taken, for a dose too late to snooze): typed
    # words go to that one first, so the other's are not offered yet (bot.engine).
    "also_waiting_next": "Also waiting for your answer: {what}; answer it after this one.",
    "about_dose": "your {time} dose",
    "about_dose_numbered": "your {time} dose of medicine {n}",
    "about_dose_named": "your {time} dose of {name}",
    "dose_on_day": "{what} on {day}",
    "this_dose": "this dose",
    "about_appointment": "your appointment on {date} at {time}",
    "about_offer": "the free appointment offered on {date} at {time}",
    "status_due": "due",
    "status_upcoming": "upcoming",  # /today: a dose whose time has not come yet
    "status_taken": "taken",
    "status_snoozed": "snoozed",
    "status_skipped": "skipped",
    "status_missed": "missed",
    "status_cancelled": "cancelled",
    "status_unreachable": "not reminded (messages were off)",
}

ES: dict[str, str] = {
    "answer_taken": "Tomada a {time:hour_article} {time}: {what}. ¡Bien hecho!",
    "answer_snoozed": "De acuerdo, te recuerdo {what} otra vez a {time:hour_article} {time}.",
    "answer_snoozed_clocks": (
        "De acuerdo, te recuerdo {what} otra vez dentro de {n} min (a {time:hour_article} {time}:"
        " esta noche cambia la hora)."
    ),
    "answer_snoozed_day": (
        "De acuerdo, te recuerdo {what} otra vez el {day} a {time:hour_article} {time}."
    ),
    "answer_skipped": "Omitida: {what}. Lo he anotado.",
    "answer_snooze_too_late": (
        "Es demasiado tarde para posponer {what}: no volveré a recordártela. Si la tomaste,"
        " responde Tomada."
    ),
    "btn_taken": "Tomada",
    "btn_snooze_n": "Posponer {n} min",
    "snooze_minutes_range": (
        "Se puede posponer de {low} a {high} minutos ({hours} horas). Envía, por ejemplo,"
        ' "posponer 90".'
    ),
    "answer_already": "Esta dosis ya estaba registrada como {status}: {what}.",
    "answer_unknown": "Ese recordatorio ya no está activo.",
    "answer_medicine_deleted": (
        "Ese medicamento ya no está en tu lista, así que no se ha registrado nada. /meds muestra"
        " tus medicamentos."
    ),
    "offer_booked": "Es suya: le esperamos el {date} a {time:hour_article} {time}.",
    "offer_taken": "Lo sentimos, otra persona aceptó esa cita antes. Sigue en la lista de espera.",
    "offer_expired": "Lo sentimos, esa cita ya no se puede reservar.",
    "offer_declined": "De acuerdo, sigue en la lista de espera.",
    "no_open_dose": "Ahora mismo no hay ninguna dosis esperando respuesta.",
    "nothing_waiting": (
        "Ahora mismo no hay nada esperando respuesta. Envía /help para ver lo que puedo hacer."
    ),
    "can_answer_now": "Perdona, no lo he entendido. Puedes responder a {what}:",
    "more_waiting": "({n} más esperando después de este.)",
    "also_waiting": "También espera tu respuesta: {what}. Responde {answers}.",
    "also_waiting_next": "También espera tu respuesta: {what}; respóndela después de esta.",
    "about_dose": "tu dosis de {time:hour_article} {time}",
    "about_dose_numbered": "tu dosis de {time:hour_article} {time} del medicamento {n}",
    "about_dose_named": "tu dosis de {time:hour_article} {time} de {name}",
    "dose_on_day": "{what} del {day}",
    "this_dose": "esta dosis",
    "about_appointment": "tu cita del {date} a {time:hour_article} {time}",
    "about_offer": "la cita libre ofrecida el {date} a {time:hour_article} {time}",
    "status_due": "pendiente",
    "status_upcoming": "programada",
    "status_taken": "tomada",
    "status_snoozed": "pospuesta",
    "status_skipped": "omitida",
    "status_missed": "olvidada",
    "status_cancelled": "cancelada",
    "status_unreachable": "sin recordatorio (mensajes desactivados)",
}
