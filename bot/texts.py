# ruff: noqa: E501  (user-facing sentences read better unbroken)
"""Every text the bot says, in English and Spanish, and locale-aware date and time formatting.

Texts are ``str.format`` templates keyed by name; :func:`text` picks the locale (falling back to
English) and fills in the values. Dates and times go through Babel so "8:00 PM" reads "20:00" in
Spanish. A test checks that both locales define exactly the same keys and placeholders.
"""

from __future__ import annotations

import functools
import unicodedata
from datetime import date, datetime, time
from typing import Any

from babel.dates import format_date, format_time

LOCALES = ("en", "es")
DEFAULT_LOCALE = "en"

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        # General
        "error": "Sorry, something went wrong. Please try again.",
        "not_understood": "Sorry, I didn't understand that. Send /help to see what I can do.",
        "unknown_command": "I don't know that command. Send /help to see what I can do.",
        "stale_button": "That button is from an older message. Here is where we are:",
        "stale_button_idle": "That button is from an older message. Send /help to see what I can do.",
        "too_long": "That message is too long for me.",
        "need_start": "Hi! Send /start to set up your reminders.",
        "cancelled": "OK, cancelled.",
        "help": (
            "I remind you to take your medicines.\n"
            "/add - add a medicine\n/meds - your medicines\n/today - today's doses\n"
            "/stats - how you are doing\n/export - your history as a CSV file\n"
            "/appointments - upcoming appointments\n/settings - time zone, language and more\n"
            "/pause and /resume - stop or restart all reminders\n"
            "/cancel - leave what we are doing (adding a medicine, settings)\n"
            "/delete_me - delete all your data\n/help - this message"
        ),
        "help_keywords": "Reply STOP to stop all messages, START to restart.",
        "help_commands_stop": "/stop - no more messages at all (/start to get them again)",
        "help_clinic": "Your clinic: {clinic}, {contact}.",
        "or_join": "{first} or {second}",
        "btn_yes": "Yes",
        "btn_no": "No",
        "btn_skip": "Skip",
        "btn_done": "Done",
        "btn_cancel": "Cancel",
        "btn_back": "Back",
        # Keywords
        "opted_out": "You will not get any more messages here. Reply START to subscribe again.",
        "opted_in": "You're subscribed again. Reply STOP to unsubscribe, HELP for help.",
        "opted_out_command": "You will not get any more messages here. Send /start to get them again.",
        "opted_in_command": "You're subscribed again. Send /stop to unsubscribe, /help for help.",
        "opted_out_hint": "Messages are stopped here. Send /start to get them again.",
        "keyword_help": (
            "MedRemind medication reminders from {clinic}. Contact: {contact}. "
            "Reply STOP to unsubscribe."
        ),
        "keyword_help_generic": "MedRemind medication reminders. Reply STOP to unsubscribe.",
        # Onboarding
        "welcome_back": "Welcome back, {name}! Send /help to see what I can do.",
        "confirm_join": "{clinic} invites you to get your reminders through them. Your medicines, reminder times, history and settings move to your record at {clinic}, and {clinic} will see them. Join {clinic}?",
        "btn_join": "Join {clinic}",
        "btn_not_now": "Not now",
        "join_declined": "OK, nothing has changed. You can open the invitation again while it is valid.",
        "joined": "Done: you are now a patient of {clinic}. Your reminders continue as before.",
        "join_invalid": "That invitation is not valid any more (used, expired or meant for someone else). Ask your clinic for a new one.",
        "join_other_clinic": "This chat already belongs to your record at another clinic, so it cannot join {clinic} too. Please ask {clinic} to get in touch with you.",
        "invite_invalid": "That invitation link is not valid any more. Let's set you up anyway.",
        "consent": (
            "Hi! I'm MedRemind. I send reminders for your medicines and appointments.\n\n"
            "Privacy: I store your name, time zone, medicines, reminder times and your answers, "
            "only to send reminders{clinic_part}. You can delete everything at any time with "
            "/delete_me. Do you agree?"
        ),
        "consent_clinic_part": " and to share your adherence with {clinic}",
        "btn_agree": "I agree",
        "btn_decline": "No thanks",
        "consent_declined": "OK, I have not stored anything. Send /start if you change your mind.",
        "consent_reprompt": "Please choose whether you agree, using the options below.",
        "ask_name": "What should I call you?",
        "bad_name": "Please send a name with letters, up to 60 characters. For example: Ana",
        "ask_language": "Which language do you prefer?",
        "bad_choice": "Please pick one of the options.",
        "ask_timezone": (
            "Which time zone are you in? Share your location, pick a city, or type a city or "
            "time zone (for example: Madrid or America/Chicago)."
        ),
        "bad_timezone": (
            "I don't know that place. Type a bigger city nearby or a time zone, "
            "for example: Chicago or Europe/Madrid."
        ),
        "confirm_timezone": "Is your local time now {time} ({zone})?",
        "btn_tz_other": "No, change it",
        "ask_phone": (
            "Optional: share your phone number so I can text you if Telegram does not work. "
            "Send it like +1 202 555 0143, or skip."
        ),
        "ask_phone_chat": (
            "Optional: your phone number, so I can text you when you are away from this chat. "
            "Send it like +1 202 555 0143, or skip."
        ),
        "bad_phone": "That does not look like a phone number. Send it like +1 202 555 0143, or skip.",
        "phone_taken": (
            "That number is already registered for someone else, so I can't add it here. Send"
            " another number, or skip. If it is yours, please ask your clinic to update it."
        ),
        "ask_channels": "Where should reminders go first?",
        "channels_first": "{first} first, then {second}",
        "channels_only": "Only {first}",
        "onboarded": "All set, {name}! Add your first medicine with /add.",
        # Channels
        "ch_telegram": "Telegram",
        "ch_whatsapp": "WhatsApp",
        "ch_sms": "SMS",
        "ch_email": "E-mail",
        "ch_console": "Console",
        # Add medicine
        "ask_med_name": "What is the medicine called? For example: Metformin",
        "bad_med_name": "Please send the medicine's name, up to 200 characters. For example: Metformin",
        "ask_dose": "What dose do you take each time? For example: 500 mg or 1 tablet",
        "bad_dose": "Please send the dose, up to 200 characters. For example: 1 tablet",
        "ask_times": "At what times? Pick or type times like 8:00, 20:30 or 8pm, then Done.",
        "times_so_far": "Times so far: {times}. Add more or press Done.",
        "bad_time": "I couldn't read that time. Try 8:00, 20:30 or 8pm.",
        "need_a_time": "Please add at least one time first. For example: 8:00",
        "btn_morning": "Morning 08:00",
        "btn_noon": "Noon 12:00",
        "btn_evening": "Evening 18:00",
        "btn_bedtime": "Bedtime 22:00",
        "ask_days": "On which days?",
        "btn_every_day": "Every day",
        "btn_weekdays": "Weekdays",
        "btn_chosen_days": "Chosen days",
        "btn_every_n": "Every few days",
        "ask_weekdays": "Which days? Type them like: mon wed fri",
        "bad_weekdays": "Please type days like: mon wed fri",
        "ask_every_n": "Every how many days? For example: 2",
        "bad_every_n": "Please send a number from 2 to 90. For example: 2",
        "ask_start": "When do you start? Pick one or type a date like 2026-03-01.",
        "btn_today": "Today",
        "btn_tomorrow": "Tomorrow",
        "bad_date": "I couldn't read that date. Try 2026-03-01 or 1/3/2026.",
        "ask_end": "When do you stop? Type a date like 2026-04-01, or no end date.",
        "btn_no_end": "No end date",
        "bad_end": "The end date must be on or after the start date ({start}).",
        "ask_pills": "How many pills do you have now? I'll remind you to refill. Or skip.",
        "bad_pills": "Please send a number, for example: 30",
        "confirm_med": "{name} ({dose})\n{times}, {days}\nFrom {start}{end}{pills}\nSave it?",
        "confirm_med_end": " until {end}",
        "confirm_med_pills": "\n{count} pills",
        "btn_save": "Save",
        "med_saved": "Saved. I'll remind you at {times}.",
        "dose_none": "no dose given",
        "days_every": "every day",
        "days_weekdays": "on weekdays",
        "days_list": "on {days}",
        "days_every_n": "every {n} days",
        # Medicine list
        "no_meds": "You have no medicines yet. Add one with /add.",
        "meds_header": "Your medicines:",
        "med_line": "{n}. {name} ({dose}) at {times}, {days}{paused}",
        "med_paused": " [paused]",
        "btn_pause_med": "Pause {name}",
        "btn_resume_med": "Resume {name}",
        "btn_edit_med": "Edit times of {name}",
        "btn_delete_med": "Delete {name}",
        "med_paused_done": "Paused {name}.",
        "med_resumed_done": "Resumed {name}.",
        "med_deleted_done": "Deleted {name}.",
        "confirm_delete_med": "Delete {name} and its reminders?",
        "med_gone": "That medicine is no longer in your list.",
        "ask_edit_times": "New times for {name}? Pick or type, then Done.",
        "med_times_done": "{name} will now be reminded at {times}.",
        # Dose answers
        "answer_taken": "Taken at {time}. Well done!",
        "answer_snoozed": "OK, I'll remind you again at {time}.",
        "answer_skipped": "Skipped. I've noted it.",
        "btn_taken": "Taken",
        "btn_snooze_n": "Snooze {n} min",
        "answer_already": "This dose was already recorded as {status}.",
        "answer_unknown": "That reminder is no longer active.",
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
        "about_dose": "your {time} dose",
        "about_appointment": "your appointment on {date} at {time}",
        "status_due": "due",
        "status_taken": "taken",
        "status_snoozed": "snoozed",
        "status_skipped": "skipped",
        "status_missed": "missed",
        "status_cancelled": "cancelled",
        # Today / stats / export
        "today_none": "No doses planned for today.",
        "today_header": "Today, {date}:",
        "today_line": "{time} {name}: {status}",
        "stats_period": "Last {days} days: {percent}% of doses taken.",
        "stats_period_none": "Last {days} days: no doses to count yet.",
        "stats_streak": "Current streak: {streak} days with every dose taken.",
        "stats_chart_title": "Doses taken per day (%)",
        "export_ready": "Here is your history ({count} doses).",
        "files_unavailable": "I can send charts and files on Telegram only.",
        # Appointments
        "no_appointments": "You have no upcoming appointments.",
        "appointment_line": "{date} {time}, {clinic}{where}",
        "appt_sms_hint": "For the next one, reply C to confirm, R to reschedule or X to cancel.",
        "btn_confirm": "Confirm",
        "btn_reschedule": "Ask to reschedule",
        "btn_cancel_appt": "Cancel appointment",
        "appt_confirmed": "Confirmed: {date} {time}. See you there!",
        "appt_reschedule": "I've asked the clinic to reschedule your {date} appointment. They will contact you.",
        "appt_cancelled": "Your {date} appointment is cancelled.",
        "appt_unknown": "That appointment is no longer active.",
        # Pause / delete
        "paused_all": "All reminders are paused. Send /resume to restart them.",
        "resumed_all": "Reminders are back on.",
        # The patient web app (/app, /app_signout)
        "app_link": "Your MedRemind app sign-in link (works once, for {minutes} minutes): {link}",
        "app_link_limit": "I sent you several sign-in links just now. Please use the newest one, or try again in 15 minutes.",
        "app_not_available": "The MedRemind web app is not set up for this service yet.",
        "app_signed_out": "Signed out of the MedRemind app on every device ({count}).",
        "confirm_delete_me": "This deletes your medicines, history and settings for good. Are you sure?",
        "btn_delete_yes": "Yes, delete everything",
        "deleted_me": "Your data has been deleted. Send /start if you want to come back.",
        "delete_kept": "Nothing was deleted.",
        # Settings
        "settings_menu": (
            "Settings:\nTime zone: {zone} ({mode})\nQuiet hours: {quiet}\nLanguage: {language}\n"
            "Channels: {channels}\nCaregiver: {caregiver}\nMedicine names in reminders: {names}\n"
            "Follow-ups: every {nag} min, up to {nag_max} times"
        ),
        "mode_home": "keep home times",
        "mode_follow": "follow me when I travel",
        "quiet_none": "none",
        "quiet_default": "{window} (the default; set your own in Quiet hours)",
        "caregiver_none": "none",
        "btn_set_timezone": "Time zone",
        "btn_set_tz_mode": "Home or follow",
        "btn_set_quiet": "Quiet hours",
        "btn_set_language": "Language",
        "btn_set_channels": "Channels",
        "btn_set_caregiver": "Caregiver",
        "btn_set_names": "Medicine names",
        "btn_set_nag": "Follow-ups",
        "ask_tz_mode": "When you travel, should reminders keep your home times or follow your local time?",
        "btn_mode_home": "Keep home times",
        "btn_mode_follow": "Follow me",
        "ask_quiet": "Quiet hours: no non-urgent messages between two times. Type like 22:00-07:00, or none.",
        "bad_quiet": "Please type two times like 22:00-07:00, or none.",
        "ask_names": "May reminders name your medicine? Others may see your screen.",
        "btn_names_yes": "Yes, name it",
        "btn_names_no": "No, keep it generic",
        "ask_nag": "If you don't answer, how often should I remind you again? Type minutes and times, like 15 3 (every 15 minutes, up to 3 times), or 0 for never.",
        "bad_nag": "Please type two numbers like 15 3, or 0.",
        "ask_caregiver_name": "Who should I tell if you miss a dose? Send their name, or remove.",
        "btn_remove": "Remove caregiver",
        "ask_caregiver_channel": "How should I reach them?",
        "ask_caregiver_address": "Their phone number (like +1 202 555 0143) or Telegram chat id?",
        "ask_caregiver_email": "Their e-mail address?",
        "bad_address": "That does not look right. For example: +1 202 555 0143",
        "ask_caregiver_timezone": (
            "Which time zone does {name} live in? Alerts wait for the end of quiet hours there, "
            "so they are not woken at night. Type a city or time zone (for example: Madrid or "
            "Europe/Madrid), or choose Same as mine."
        ),
        "btn_caregiver_tz_same": "Same as mine",
        "bad_caregiver_timezone": (
            "I don't know that place. Type a bigger city nearby or a time zone, "
            "for example: Chicago or Europe/Madrid, or choose Same as mine."
        ),
        "caregiver_summary": "{name} ({zone})",
        "caregiver_zone_same": "same time zone as you",
        "ask_caregiver_delay": "How many minutes after a missed dose should I alert them? For example: 30",
        "bad_delay": "Please send minutes from 0 to 1440. For example: 30",
        "caregiver_removed": "Caregiver removed.",
        "saved": "Saved.",
        "lang_en": "English",
        "lang_es": "Español",
    },
    "es": {
        "error": "Lo siento, algo salió mal. Por favor, inténtalo de nuevo.",
        "not_understood": "Perdona, no lo he entendido. Envía /help para ver lo que puedo hacer.",
        "unknown_command": "No conozco ese comando. Envía /help para ver lo que puedo hacer.",
        "stale_button": "Ese botón es de un mensaje anterior. Seguimos aquí:",
        "stale_button_idle": "Ese botón es de un mensaje anterior. Envía /help para ver lo que puedo hacer.",
        "too_long": "Ese mensaje es demasiado largo para mí.",
        "need_start": "¡Hola! Envía /start para configurar tus recordatorios.",
        "cancelled": "De acuerdo, cancelado.",
        "help": (
            "Te recuerdo tomar tus medicamentos.\n"
            "/add - añadir un medicamento\n/meds - tus medicamentos\n/today - dosis de hoy\n"
            "/stats - cómo vas\n/export - tu historial en un archivo CSV\n"
            "/appointments - próximas citas\n/settings - zona horaria, idioma y más\n"
            "/pause y /resume - parar o reanudar todos los recordatorios\n"
            "/cancel - dejar lo que estamos haciendo (añadir un medicamento, ajustes)\n"
            "/delete_me - borrar todos tus datos\n/help - este mensaje"
        ),
        "help_keywords": "Responde STOP para no recibir más mensajes, START para volver.",
        "help_commands_stop": "/stop - no recibir ningún mensaje más (/start para volver a recibirlos)",
        "help_clinic": "Tu clínica: {clinic}, {contact}.",
        "or_join": "{first} o {second}",
        "btn_yes": "Sí",
        "btn_no": "No",
        "btn_skip": "Omitir",
        "btn_done": "Listo",
        "btn_cancel": "Cancelar",
        "btn_back": "Atrás",
        "opted_out": "No recibirás más mensajes aquí. Responde START para volver a suscribirte.",
        "opted_in": "Te has vuelto a suscribir. Responde STOP para darte de baja, HELP para ayuda.",
        "opted_out_command": "No recibirás más mensajes aquí. Envía /start para volver a recibirlos.",
        "opted_in_command": "Te has vuelto a suscribir. Envía /stop para darte de baja, /help para ayuda.",
        "opted_out_hint": "Los mensajes están parados aquí. Envía /start para volver a recibirlos.",
        "keyword_help": (
            "Recordatorios de medicación MedRemind de {clinic}. Contacto: {contact}. "
            "Responde STOP para darte de baja."
        ),
        "keyword_help_generic": (
            "Recordatorios de medicación MedRemind. Responde STOP para darte de baja."
        ),
        "welcome_back": "¡Hola de nuevo, {name}! Envía /help para ver lo que puedo hacer.",
        "confirm_join": "{clinic} te invita a recibir tus recordatorios a través de su centro. Tus medicamentos, horarios, historial y ajustes pasan a tu ficha en {clinic}, que podrá verlos. ¿Unirte a {clinic}?",
        "btn_join": "Unirme a {clinic}",
        "btn_not_now": "Ahora no",
        "join_declined": "De acuerdo, no ha cambiado nada. Puedes abrir la invitación de nuevo mientras sea válida.",
        "joined": "Hecho: ya eres paciente de {clinic}. Tus recordatorios siguen como antes.",
        "join_invalid": "Esa invitación ya no es válida (usada, caducada o para otra persona). Pide una nueva a tu centro.",
        "join_other_clinic": "Este chat ya pertenece a tu ficha en otro centro, así que no puede unirse también a {clinic}. Pide a {clinic} que se ponga en contacto contigo.",
        "invite_invalid": "Ese enlace de invitación ya no es válido. Vamos a configurarte igualmente.",
        "consent": (
            "¡Hola! Soy MedRemind. Te envío recordatorios de tus medicamentos y citas.\n\n"
            "Privacidad: guardo tu nombre, zona horaria, medicamentos, horarios y respuestas "
            "solo para enviarte recordatorios{clinic_part}. Puedes borrarlo todo cuando quieras "
            "con /delete_me. ¿Estás de acuerdo?"
        ),
        "consent_clinic_part": " y para compartir tu adherencia con {clinic}",
        "btn_agree": "Acepto",
        "btn_decline": "No, gracias",
        "consent_declined": "De acuerdo, no he guardado nada. Envía /start si cambias de opinión.",
        "consent_reprompt": "Elige si estás de acuerdo con una de las opciones.",
        "ask_name": "¿Cómo te llamo?",
        "bad_name": "Envía un nombre con letras, de hasta 60 caracteres. Por ejemplo: Ana",
        "ask_language": "¿Qué idioma prefieres?",
        "bad_choice": "Elige una de las opciones.",
        "ask_timezone": (
            "¿En qué zona horaria estás? Comparte tu ubicación, elige una ciudad o escribe una "
            "ciudad o zona horaria (por ejemplo: Madrid o America/Chicago)."
        ),
        "bad_timezone": (
            "No conozco ese lugar. Escribe una ciudad grande cercana o una zona horaria, "
            "por ejemplo: Chicago o Europe/Madrid."
        ),
        "confirm_timezone": "¿Tu hora local ahora es {time} ({zone})?",
        "btn_tz_other": "No, cambiarla",
        "ask_phone": (
            "Opcional: comparte tu número de teléfono para enviarte SMS si Telegram no funciona. "
            "Envíalo como +34 600 123 456, u omite este paso."
        ),
        "ask_phone_chat": (
            "Opcional: tu número de teléfono, para enviarte SMS cuando no estés en este chat. "
            "Envíalo como +34 600 123 456, u omite este paso."
        ),
        "bad_phone": "Eso no parece un número de teléfono. Envíalo como +34 600 123 456, u omítelo.",
        "phone_taken": (
            "Ese número ya está registrado para otra persona, así que no puedo añadirlo aquí."
            " Envía otro número u omítelo. Si es tuyo, pide a tu clínica que lo actualice."
        ),
        "ask_channels": "¿Por dónde te envío primero los recordatorios?",
        "channels_first": "Primero {first}, luego {second}",
        "channels_only": "Solo {first}",
        "onboarded": "¡Listo, {name}! Añade tu primer medicamento con /add.",
        "ch_telegram": "Telegram",
        "ch_whatsapp": "WhatsApp",
        "ch_sms": "SMS",
        "ch_email": "Correo",
        "ch_console": "Consola",
        "ask_med_name": "¿Cómo se llama el medicamento? Por ejemplo: Metformina",
        "bad_med_name": "Envía el nombre del medicamento, de hasta 200 caracteres. Por ejemplo: Metformina",
        "ask_dose": "¿Qué dosis tomas cada vez? Por ejemplo: 500 mg o 1 pastilla",
        "bad_dose": "Envía la dosis, de hasta 200 caracteres. Por ejemplo: 1 pastilla",
        "ask_times": "¿A qué horas? Elige o escribe horas como 8:00, 20:30 u 8pm, y luego Listo.",
        "times_so_far": "Horas por ahora: {times}. Añade más o pulsa Listo.",
        "bad_time": "No he podido leer esa hora. Prueba 8:00, 20:30 u 8pm.",
        "need_a_time": "Añade al menos una hora primero. Por ejemplo: 8:00",
        "btn_morning": "Mañana 08:00",
        "btn_noon": "Mediodía 12:00",
        "btn_evening": "Tarde 18:00",
        "btn_bedtime": "Al acostarse 22:00",
        "ask_days": "¿Qué días?",
        "btn_every_day": "Todos los días",
        "btn_weekdays": "Entre semana",
        "btn_chosen_days": "Días concretos",
        "btn_every_n": "Cada pocos días",
        "ask_weekdays": "¿Qué días? Escríbelos así: lun mie vie",
        "bad_weekdays": "Escribe los días así: lun mie vie",
        "ask_every_n": "¿Cada cuántos días? Por ejemplo: 2",
        "bad_every_n": "Envía un número del 2 al 90. Por ejemplo: 2",
        "ask_start": "¿Cuándo empiezas? Elige o escribe una fecha como 2026-03-01.",
        "btn_today": "Hoy",
        "btn_tomorrow": "Mañana",
        "bad_date": "No he podido leer esa fecha. Prueba 2026-03-01 o 1/3/2026.",
        "ask_end": "¿Cuándo terminas? Escribe una fecha como 2026-04-01, o sin fecha de fin.",
        "btn_no_end": "Sin fecha de fin",
        "bad_end": "La fecha de fin debe ser igual o posterior a la de inicio ({start}).",
        "ask_pills": "¿Cuántas pastillas tienes ahora? Te avisaré para reponer. U omítelo.",
        "bad_pills": "Envía un número, por ejemplo: 30",
        "confirm_med": "{name} ({dose})\n{times}, {days}\nDesde {start}{end}{pills}\n¿Lo guardo?",
        "confirm_med_end": " hasta {end}",
        "confirm_med_pills": "\n{count} pastillas",
        "btn_save": "Guardar",
        "med_saved": "Guardado. Te lo recordaré a las {times}.",
        "dose_none": "sin dosis indicada",
        "days_every": "todos los días",
        "days_weekdays": "entre semana",
        "days_list": "los {days}",
        "days_every_n": "cada {n} días",
        "no_meds": "Aún no tienes medicamentos. Añade uno con /add.",
        "meds_header": "Tus medicamentos:",
        "med_line": "{n}. {name} ({dose}) a las {times}, {days}{paused}",
        "med_paused": " [en pausa]",
        "btn_pause_med": "Pausar {name}",
        "btn_resume_med": "Reanudar {name}",
        "btn_edit_med": "Cambiar horas de {name}",
        "btn_delete_med": "Borrar {name}",
        "med_paused_done": "{name} en pausa.",
        "med_resumed_done": "{name} reanudado.",
        "med_deleted_done": "{name} borrado.",
        "confirm_delete_med": "¿Borrar {name} y sus recordatorios?",
        "med_gone": "Ese medicamento ya no está en tu lista.",
        "ask_edit_times": "¿Nuevas horas para {name}? Elige o escribe, y luego Listo.",
        "med_times_done": "Te recordaré {name} a las {times}.",
        "answer_taken": "Tomada a las {time}. ¡Bien hecho!",
        "answer_snoozed": "De acuerdo, te lo recuerdo otra vez a las {time}.",
        "answer_skipped": "Omitida. Lo he anotado.",
        "btn_taken": "Tomada",
        "btn_snooze_n": "Posponer {n} min",
        "answer_already": "Esta dosis ya estaba registrada como {status}.",
        "answer_unknown": "Ese recordatorio ya no está activo.",
        "offer_booked": "Es suya: le esperamos el {date} a las {time}.",
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
        "about_dose": "tu dosis de las {time}",
        "about_appointment": "tu cita del {date} a las {time}",
        "status_due": "pendiente",
        "status_taken": "tomada",
        "status_snoozed": "pospuesta",
        "status_skipped": "omitida",
        "status_missed": "olvidada",
        "status_cancelled": "cancelada",
        "today_none": "No hay dosis previstas para hoy.",
        "today_header": "Hoy, {date}:",
        "today_line": "{time} {name}: {status}",
        "stats_period": "Últimos {days} días: {percent}% de dosis tomadas.",
        "stats_period_none": "Últimos {days} días: aún no hay dosis que contar.",
        "stats_streak": "Racha actual: {streak} días con todas las dosis tomadas.",
        "stats_chart_title": "Dosis tomadas por día (%)",
        "export_ready": "Aquí tienes tu historial ({count} dosis).",
        "files_unavailable": "Solo puedo enviar gráficos y archivos por Telegram.",
        "no_appointments": "No tienes próximas citas.",
        "appointment_line": "{date} {time}, {clinic}{where}",
        "appt_sms_hint": "Para la próxima, responde C para confirmar, R para cambiarla o X para anularla.",
        "btn_confirm": "Confirmar",
        "btn_reschedule": "Pedir otra fecha",
        "btn_cancel_appt": "Anular la cita",
        "appt_confirmed": "Confirmada: {date} {time}. ¡Hasta pronto!",
        "appt_reschedule": "He pedido a la clínica cambiar tu cita del {date}. Se pondrán en contacto contigo.",
        "appt_cancelled": "Tu cita del {date} está anulada.",
        "appt_unknown": "Esa cita ya no está activa.",
        "paused_all": "Todos los recordatorios están en pausa. Envía /resume para reanudarlos.",
        "resumed_all": "Los recordatorios vuelven a estar activos.",
        "app_link": "Tu enlace para entrar en la app de MedRemind (un solo uso, {minutes} minutos): {link}",
        "app_link_limit": "Te he enviado varios enlaces hace poco. Usa el más reciente o inténtalo de nuevo en 15 minutos.",
        "app_not_available": "La app web de MedRemind aún no está disponible en este servicio.",
        "app_signed_out": "Sesión cerrada en la app de MedRemind en todos los dispositivos ({count}).",
        "confirm_delete_me": "Esto borra para siempre tus medicamentos, historial y ajustes. ¿Seguro?",
        "btn_delete_yes": "Sí, borrarlo todo",
        "deleted_me": "Tus datos se han borrado. Envía /start si quieres volver.",
        "delete_kept": "No se ha borrado nada.",
        "settings_menu": (
            "Ajustes:\nZona horaria: {zone} ({mode})\nHoras de silencio: {quiet}\nIdioma: {language}\n"
            "Canales: {channels}\nCuidador: {caregiver}\nNombre del medicamento en recordatorios: "
            "{names}\nAvisos extra: cada {nag} min, hasta {nag_max} veces"
        ),
        "mode_home": "mantener horas de casa",
        "mode_follow": "seguirme cuando viajo",
        "quiet_none": "ninguna",
        "quiet_default": "{window} (la predeterminada; pon la tuya en Horas de silencio)",
        "caregiver_none": "ninguno",
        "btn_set_timezone": "Zona horaria",
        "btn_set_tz_mode": "Casa o seguirme",
        "btn_set_quiet": "Horas de silencio",
        "btn_set_language": "Idioma",
        "btn_set_channels": "Canales",
        "btn_set_caregiver": "Cuidador",
        "btn_set_names": "Nombres de medicamentos",
        "btn_set_nag": "Avisos extra",
        "ask_tz_mode": "Cuando viajas, ¿los recordatorios mantienen tus horas de casa o siguen tu hora local?",
        "btn_mode_home": "Horas de casa",
        "btn_mode_follow": "Seguirme",
        "ask_quiet": "Horas de silencio: sin mensajes no urgentes entre dos horas. Escribe 22:00-07:00, o ninguna.",
        "bad_quiet": "Escribe dos horas como 22:00-07:00, o ninguna.",
        "ask_names": "¿Pueden los recordatorios nombrar tu medicamento? Otros podrían ver tu pantalla.",
        "btn_names_yes": "Sí, nombrarlo",
        "btn_names_no": "No, mensaje genérico",
        "ask_nag": "Si no respondes, ¿cada cuánto te lo recuerdo? Escribe minutos y veces, como 15 3 (cada 15 minutos, hasta 3 veces), o 0 para nunca.",
        "bad_nag": "Escribe dos números como 15 3, o 0.",
        "ask_caregiver_name": "¿A quién aviso si olvidas una dosis? Envía su nombre, o quítalo.",
        "btn_remove": "Quitar cuidador",
        "ask_caregiver_channel": "¿Cómo le aviso?",
        "ask_caregiver_address": "¿Su número de teléfono (como +34 600 123 456) o id de chat de Telegram?",
        "ask_caregiver_email": "¿Su correo electrónico?",
        "bad_address": "Eso no parece correcto. Por ejemplo: +34 600 123 456",
        "ask_caregiver_timezone": (
            "¿En qué zona horaria vive {name}? Los avisos esperan al final de las horas de silencio "
            "allí, para no despertarle de noche. Escribe una ciudad o zona horaria (por ejemplo: "
            "Madrid o Europe/Madrid), o elige Igual que yo."
        ),
        "btn_caregiver_tz_same": "Igual que yo",
        "bad_caregiver_timezone": (
            "No conozco ese lugar. Escribe una ciudad grande cercana o una zona horaria, "
            "por ejemplo: Bogotá o America/Mexico_City, o elige Igual que yo."
        ),
        "caregiver_summary": "{name} ({zone})",
        "caregiver_zone_same": "misma zona horaria que tú",
        "ask_caregiver_delay": "¿Cuántos minutos después de una dosis olvidada le aviso? Por ejemplo: 30",
        "bad_delay": "Envía minutos del 0 al 1440. Por ejemplo: 30",
        "caregiver_removed": "Cuidador quitado.",
        "saved": "Guardado.",
        "lang_en": "English",
        "lang_es": "Español",
    },
}


def text(locale: str, key: str, **values: Any) -> str:
    """The text ``key`` in ``locale`` (English when missing), with ``values`` filled in."""
    table = _TEXTS.get(locale) or _TEXTS[DEFAULT_LOCALE]
    template = table.get(key) or _TEXTS[DEFAULT_LOCALE][key]
    return template.format(**values) if values else template


def keys(locale: str) -> set[str]:
    """Every key defined for ``locale`` (for the completeness test)."""
    return set(_TEXTS[locale])


def raw(locale: str, key: str) -> str:
    """The unformatted template (for the placeholder test)."""
    return _TEXTS[locale][key]


def pick_locale(language_code: str | None) -> str:
    """Our locale for a Telegram ``language_code`` such as ``es-MX``."""
    if language_code and language_code.split("-")[0].lower() in LOCALES:
        return language_code.split("-")[0].lower()
    return DEFAULT_LOCALE


def fold_label(label: str) -> str:
    """A label or typed text folded for matching: lower case, no accents, single spaces."""
    decomposed = unicodedata.normalize("NFKD", label.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def fmt_time(value: time | datetime, locale: str) -> str:
    """A time of day, short, per locale ("8:00 PM", "20:00")."""
    return _short_time(value.hour, value.minute, locale)


@functools.lru_cache(maxsize=4096)
def _short_time(hour: int, minute: int, locale: str) -> str:
    # CLDR's short time patterns hold hours, minutes and the day period only (no zone, no
    # seconds), so the text depends on these three values: Babel formats each once.
    return format_time(time(hour, minute), format="short", locale=locale)


def fmt_date(value: date | datetime, locale: str, style: str = "medium") -> str:
    """A date per locale ("Mar 1, 2026", "1 mar 2026")."""
    return format_date(value, format=style, locale=locale)


def fmt_times(values: list[time], locale: str) -> str:
    """Several times of day, comma separated."""
    return ", ".join(fmt_time(v, locale) for v in values)
