# ruff: noqa: E501  (user-facing sentences read better unbroken)
"""Texts shared by every dialog: help, errors, buttons, the STOP/START/HELP keywords, channel names.

One of the tables :mod:`bot.texts` merges; ``EN`` and ``ES`` hold the same keys.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # General
    "error": "Sorry, something went wrong. Please try again.",
    "not_understood": "Sorry, I didn't understand that. Send /help to see what I can do.",
    "unknown_command": "I don't know that command. Send /help to see what I can do.",
    "unknown_command_near": "I don't know that command. Did you mean /{name}? Send /help to see what I can do.",
    "stale_button": "That button is from an older message. Here is where we are:",
    # A typed choice for a dialog menu that a reminder answered since passed over (bot.engine).
    "menu_again": "Here is where we were, before your answer. Choose again:",
    # A menu answered with a number long after it was shown (bot.engine): shown again first.
    "menu_old": "That menu is from a while ago. Here it is again; choose again:",
    "stale_button_idle": "That button is from an older message. Send /help to see what I can do.",
    # Over bot.engine.MAX_INPUT_CHARS; at a question its options follow, else how to go on
    # ("too long" then "I didn't understand that" in one reply read as two contradicting answers).
    "too_long": "That message is too long for me: I read up to {max} characters.",
    "too_long_idle": "That message is too long for me: I read up to {max} characters. Send /help to see what I can do.",
    "need_start": "Hi! Send /start to set up your reminders.",
    # A registered patient's "hi" (bot.engine._greet): this line, then /help's text.
    "greeting": "Hello, {name}!",
    "greeting_no_name": "Hello!",
    # A patient's "thanks" (bot.engine._unmatched); a reminder still waiting is named after it.
    "welcome": "You're welcome!",
    # A command or a button press in a group chat (medremind.web.telegram_chats); also an
    # answerCallbackQuery alert, which holds 200 characters at most.
    "private_chat_only": (
        "I only work in a private chat, so that your medicines stay between us."
        " Tap my name, then Send Message, and send /start there."
    ),
    # An edited text message (medremind.web.telegram_unread): edits are never read as answers.
    "edits_not_read": "I only read new messages, not edits. Please send it again as a new message.",
    # A photo, voice message, sticker... (medremind.web.telegram_unread): only text is read.
    "text_only": "I can only read text. Please type your message, or use the buttons under a reminder.",
    # A photo, voice note... over SMS or WhatsApp (bot.engine): no buttons to point at there.
    "text_only_typed": "I can only read text. Please type your message or your answer.",
    "cancelled": "OK, cancelled.",
    "help": (
        "I remind you to take your medicines.\n"
        "/add - add a medicine\n/meds - your medicines\n/today - today's doses\n"
        "/stats - how you are doing\n{files}"
        "/appointments - upcoming appointments\n/settings - time zone, language and more\n"
        "/pause and /resume - stop or restart all reminders\n"
        "/cancel - leave what we are doing (adding a medicine, settings)\n"
        "/delete_me - delete all your data\n/help - this message"
    ),
    # {files} of "help" where files reach the patient (not SMS or WhatsApp: bot.dialogs.reports).
    "help_export": "/export - your history as a CSV file\n",
    "help_keywords": "Reply STOP to stop all messages, START to restart.",
    # /help on SMS: one GSM-7 segment, the commands that work there (/export sends a file,
    # which SMS cannot carry), bot.dialogs.account.
    "help_sms": (
        "Send /today, /meds, /add, /stats, /appointments, /settings, /pause, /resume, /cancel"
        " or /delete_me.\nReply STOP to stop all messages, START to restart."
    ),
    "help_clinic_sms": "Your clinic: {clinic}, {contact}.",
    "help_commands_stop": "/stop - no more messages at all (/start to get them again)",
    "help_clinic": "Your clinic: {clinic}, {contact}.",
    "help_clinic_name": "Your clinic: {clinic}.",
    "or_join": "{first} or {second}",
    "btn_yes": "Yes",
    "btn_no": "No",
    "btn_skip": "Skip",
    "btn_done": "Done",
    "btn_cancel": "Discard",
    "btn_back": "Back",
    # Keywords
    "opted_out": "You will not get any more messages here. Reply START to subscribe again.",
    "opted_in": "You're subscribed again. Reply STOP to unsubscribe, HELP for help.",
    "opted_out_command": "You will not get any more messages here. Send /start to get them again.",
    "opted_in_command": "You're subscribed again. Send /stop to unsubscribe, /help for help.",
    "opted_out_hint": "Messages are stopped here. Send /start to get them again.",
    "opted_out_caregiver_told": (
        "No reminder can reach you now, so we will let your caregiver know that reminders are off."
    ),
    "keyword_help": (
        "MedRemind medication reminders from {clinic}. Contact: {contact}. "
        "Reply STOP to unsubscribe."
    ),
    "keyword_help_clinic": "MedRemind medication reminders from {clinic}. Reply STOP to unsubscribe.",
    "keyword_help_generic": "MedRemind medication reminders. Reply STOP to unsubscribe.",
    # Channels
    "caregiver_linked": (
        "You are now {patient}'s caregiver: I will message you here when they miss a dose."
        " To stop these alerts, send /stop."
    ),
    # A caregiver's first text from the number a patient gave (bot.engine, SMS and WhatsApp).
    "caregiver_agreed": (
        "Thank you, {caregiver}. You are now {patient}'s caregiver: I will message you here when"
        " they miss a dose. To stop these alerts, reply STOP."
    ),
    "caregiver_someone": "a patient",
    # Also a link the patient withdrew (a newer one, no caregiver) or whose patient was erased:
    # "expired or used" alone was untrue then (and an erasure is not the caregiver's to learn).
    "caregiver_link_invalid": (
        "This caregiver link no longer works: it has expired or was used already, or the"
        " patient withdrew it. Ask them for a new one."
    ),
    "caregiver_link_own": "This link is for {name}: forward it to them to open in their Telegram.",
    "ch_telegram": "Telegram",
    "ch_whatsapp": "WhatsApp",
    "ch_sms": "SMS",
    "ch_email": "E-mail",
    "ch_console": "Console",
    # A channel named inside a sentence ("an alert by e-mail"): a common noun is not capitalised
    # there, a product's name is (found in medremind dev's console: "por Correo").
    "ch_in_text_telegram": "Telegram",
    "ch_in_text_whatsapp": "WhatsApp",
    "ch_in_text_sms": "SMS",
    "ch_in_text_email": "e-mail",
    "ch_in_text_console": "the console",
}

ES: dict[str, str] = {
    "error": "Lo siento, algo salió mal. Por favor, inténtalo de nuevo.",
    "not_understood": "Perdona, no lo he entendido. Envía /help para ver lo que puedo hacer.",
    "unknown_command": "No conozco ese comando. Envía /help para ver lo que puedo hacer.",
    "unknown_command_near": "No conozco ese comando. ¿Querías decir /{name}? Envía /help para ver lo que puedo hacer.",
    "stale_button": "Ese botón es de un mensaje anterior. Seguimos aquí:",
    "menu_again": "Aquí estábamos antes de tu respuesta. Elige de nuevo:",
    "menu_old": "Ese menú es de hace tiempo. Aquí lo tienes otra vez; elige de nuevo:",
    "stale_button_idle": "Ese botón es de un mensaje anterior. Envía /help para ver lo que puedo hacer.",
    "too_long": "Ese mensaje es demasiado largo para mí: leo hasta {max} caracteres.",
    "too_long_idle": "Ese mensaje es demasiado largo para mí: leo hasta {max} caracteres. Envía /help para ver lo que puedo hacer.",
    "need_start": "¡Hola! Envía /start para configurar tus recordatorios.",
    "greeting": "¡Hola, {name}!",
    "greeting_no_name": "¡Hola!",
    "welcome": "¡De nada!",
    "private_chat_only": (
        "Solo funciono en un chat privado, para que tus medicamentos queden entre nosotros."
        " Toca mi nombre, luego Enviar mensaje, y envía /start allí."
    ),
    "edits_not_read": "Solo leo mensajes nuevos, no los editados. Envíalo de nuevo como un mensaje nuevo.",
    "text_only": "Solo puedo leer texto. Escribe tu mensaje, o usa los botones de un recordatorio.",
    "text_only_typed": "Solo puedo leer texto. Escribe tu mensaje o tu respuesta.",
    "cancelled": "De acuerdo, cancelado.",
    "help": (
        "Te recuerdo tomar tus medicamentos.\n"
        "/add - añadir un medicamento\n/meds - tus medicamentos\n/today - dosis de hoy\n"
        "/stats - cómo vas\n{files}"
        "/appointments - próximas citas\n/settings - zona horaria, idioma y más\n"
        "/pause y /resume - parar o reanudar todos los recordatorios\n"
        "/cancel - dejar lo que estamos haciendo (añadir un medicamento, ajustes)\n"
        "/delete_me - borrar todos tus datos\n/help - este mensaje"
    ),
    "help_export": "/export - tu historial en un archivo CSV\n",
    "help_keywords": "Responde PARAR (o STOP) para no recibir más mensajes, COMENZAR para volver.",
    # GSM-7 has no "á", "í" or "ó": one of them would make the SMS UCS-2 (two segments or more).
    "help_sms": (
        "Escribe /today, /meds, /add, /stats, /appointments, /settings, /pause, /resume, /cancel"
        " o /delete_me.\nResponde PARAR para darte de baja, COMENZAR para volver."
    ),
    "help_clinic_sms": "Contacto: {clinic}, {contact}.",
    "help_commands_stop": "/stop - no recibir ningún mensaje más (/start para volver a recibirlos)",
    "help_clinic": "Tu clínica: {clinic}, {contact}.",
    "help_clinic_name": "Tu clínica: {clinic}.",
    "or_join": "{first} o {second}",
    "btn_yes": "Sí",
    "btn_no": "No",
    "btn_skip": "Omitir",
    "btn_done": "Listo",
    "btn_cancel": "Descartar",
    "btn_back": "Atrás",
    "opted_out": (
        "No recibirás más mensajes aquí. Responde COMENZAR (o START) para volver a suscribirte."
    ),
    "opted_in": (
        "Te has vuelto a suscribir. Responde PARAR (o STOP) para darte de baja, AYUDA para ayuda."
    ),
    "opted_out_command": "No recibirás más mensajes aquí. Envía /start para volver a recibirlos.",
    "opted_in_command": "Te has vuelto a suscribir. Envía /stop para darte de baja, /help para ayuda.",
    "opted_out_hint": "Los mensajes están parados aquí. Envía /start para volver a recibirlos.",
    "opted_out_caregiver_told": (
        "Ya no te llega ningún recordatorio, así que avisaremos a tu cuidador de que están"
        " desactivados."
    ),
    "keyword_help": (
        "Recordatorios de medicación MedRemind de {clinic}. Contacto: {contact}. "
        "Responde PARAR (o STOP) para darte de baja."
    ),
    "keyword_help_clinic": (
        "Recordatorios de medicación MedRemind de {clinic}. Responde PARAR (o STOP) para darte"
        " de baja."
    ),
    "keyword_help_generic": (
        "Recordatorios de medicación MedRemind. Responde PARAR (o STOP) para darte de baja."
    ),
    "caregiver_linked": (
        "Ahora eres cuidador de {patient}: te escribiré aquí si olvida una dosis."
        " Para dejar de recibir estos avisos, envía /stop."
    ),
    "caregiver_agreed": (
        "Gracias, {caregiver}. Ahora eres cuidador de {patient}: te escribiré aquí si olvida una"
        " dosis. Para dejar de recibir estos avisos, responde PARAR."
    ),
    "caregiver_someone": "un paciente",
    "caregiver_link_invalid": (
        "Este enlace de cuidador ya no sirve: ha caducado o ya se usó, o el paciente lo retiró."
        " Pídele uno nuevo."
    ),
    "caregiver_link_own": "Este enlace es para {name}: reenvíaselo para que lo abra en su Telegram.",
    "ch_telegram": "Telegram",
    "ch_whatsapp": "WhatsApp",
    "ch_sms": "SMS",
    "ch_email": "Correo",
    "ch_console": "Consola",
    "ch_in_text_telegram": "Telegram",
    "ch_in_text_whatsapp": "WhatsApp",
    "ch_in_text_sms": "SMS",
    "ch_in_text_email": "correo",
    "ch_in_text_console": "la consola",
}
