# ruff: noqa: E501  (user-facing sentences read better unbroken)
"""Texts of onboarding: consent, name, language, time zone, phone, channels, joining a clinic.

One of the tables :mod:`bot.texts` merges; ``EN`` and ``ES`` hold the same keys.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "welcome_back": "Welcome back, {name}! Send /help to see what I can do.",
    "confirm_join": "{clinic} invites you to get your reminders through them. Your medicines, reminder times, history and settings move to your record at {clinic}, and {clinic} will see them. Join {clinic}?",
    "btn_join": "Join {clinic}",
    "btn_not_now": "Not now",
    "join_declined": "OK, nothing has changed. You can open the invitation again while it is valid.",
    "joined": "Done: you are now a patient of {clinic}. Your reminders continue as before.",
    "join_invalid": "That invitation is not valid any more (used, expired or meant for someone else). Ask your clinic for a new one.",
    "join_other_clinic": "This chat already belongs to your record at another clinic, so it cannot join {clinic} too. Please ask {clinic} to get in touch with you.",
    "other_clinics_bot": "This chat belongs to a clinic you are not registered with, so it cannot show or change your reminders. Please write where you receive them.",
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
    "bad_name": "Please send a name with letters, up to {max} characters. For example: Ana",
    "control_name": "That name holds an invisible control character (often pasted from another program), which cannot go into a message. Please type the name again, up to {max} characters. For example: Ana",
    "invisible_name": "That name shows nothing: it is only invisible characters (zero-width spaces, direction marks or blank fillers) or accents with no letter. Please type the name in letters, up to {max} characters. For example: Ana",
    "ask_language": "Which language do you prefer?",
    "bad_choice": "Please pick one of the options.",
    "ask_timezone": (
        "Which time zone are you in? Share your location, pick a city, or type a city or "
        "time zone (for example: Madrid or America/Chicago)."
    ),
    # A zone stored as Etc/Unknown ('Factory' before the API refused it): bot.engine.
    "zone_unknown": "I don't know where you live, so I could not plan your reminders.",
    # SMS, the console, e-mail: no location can be shared there (bot.dialogs.onboarding).
    "ask_timezone_typed": (
        "Which time zone are you in? Pick a city, or type a city or time zone (for example: "
        "Madrid or America/Chicago)."
    ),
    "bad_timezone": (
        "I don't know that place. Type a bigger city nearby or a time zone, "
        "for example: Chicago or Europe/Madrid."
    ),
    # This and the two texts above come with the eight cities: on SMS ("Bogotá" makes it UCS-2)
    # each fits 3 segments whole (tests/bot/test_city_menu_one_sms.py); longer, it was split.
    "abbreviated_timezone": (
        "{abbreviation} is a time zone abbreviation: it does not say whether your clocks change "
        "in summer. Type a city: New York."
    ),
    "confirm_timezone": "Is your local time now {time} ({zone})?",
    # A misspelt place ("madird"): the closest one the bot knows, to accept or refuse
    # (bot.parsing.near_timezone); accepted, it is the patient's zone (its time checked here).
    "near_timezone": "I don't know that place. Did you mean {zone}? (Your local time would be {time}.)",
    "btn_tz_not_it": "No, another place",
    "timezone_kept": "Your time zone is {zone} (your local time now is {time}); reminders follow it. To change it, send /settings.",
    # A command at /settings' zone confirmation (or at "moved or travelling?") of a patient who
    # keeps home times: the zone is where they are, reminders keep home's clock (bot.dialogs.onboarding).
    "timezone_kept_away": "Your time zone is {zone} (your local time now is {time}); your reminders keep their times in {home}, your home time zone, as on a trip.",
    "timezone_moved_hint": "If you moved to {zone}, send /settings and choose Time zone again.",
    "timezone_unchanged": "Your time zone stays {zone} (your local time now is {time}). To change it, send /settings.",
    "timezone_not_chosen": "You have not chosen your time zone yet: reminders follow {zone} (the time there now is {time}). To choose yours, send /settings.",
    "btn_tz_other": "No, change it",
    "ask_phone": (
        "Optional: share your phone number so I can text you if Telegram does not work. "
        "Send it like {example}, or skip."
    ),
    "ask_phone_chat": (
        "Optional: your phone number, so I can text you when you are away from this chat. "
        "Send it like {example}, or skip."
    ),
    "bad_phone": "That does not look like a phone number. Send it like {example}, or skip.",
    "phone_taken": (
        "That number is already registered for someone else, so I can't add it here. Send"
        " another number, or skip. If it is yours, please ask your clinic to update it."
    ),
    "phone_pending": (
        "Saved. Before I text that number, send any text message from it to {number}, once,"
        " so I know it is yours."
    ),
    "phone_pending_reply": (
        "Saved. I will text that number once it has sent a text message to this service,"
        " so I know it is yours."
    ),
    "ask_channels": "Where should reminders go first?",
    "channels_first": "{first} first, then {second}",
    "channels_only": "Only {first}",
    "onboarded": "All set, {name}! Add your first medicine with /add.",
}

ES: dict[str, str] = {
    "welcome_back": "¡Hola de nuevo, {name}! Envía /help para ver lo que puedo hacer.",
    "confirm_join": "{clinic} te invita a recibir tus recordatorios a través de su centro. Tus medicamentos, horarios, historial y ajustes pasan a tu ficha en {clinic}, que podrá verlos. ¿Unirte a {clinic}?",
    "btn_join": "Unirme a {clinic}",
    "btn_not_now": "Ahora no",
    "join_declined": "De acuerdo, no ha cambiado nada. Puedes abrir la invitación de nuevo mientras sea válida.",
    "joined": "Hecho: ya eres paciente de {clinic}. Tus recordatorios siguen como antes.",
    "join_invalid": "Esa invitación ya no es válida (usada, caducada o para otra persona). Pide una nueva a tu centro.",
    "join_other_clinic": "Este chat ya pertenece a tu ficha en otro centro, así que no puede unirse también a {clinic}. Pide a {clinic} que se ponga en contacto contigo.",
    "other_clinics_bot": "Este chat pertenece a un centro en el que no estás registrado, así que no puede mostrar ni cambiar tus recordatorios. Escribe donde los recibes.",
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
    "bad_name": "Envía un nombre con letras, de hasta {max} caracteres. Por ejemplo: Ana",
    "control_name": "Ese nombre lleva un carácter de control invisible (suele venir al pegar desde otro programa), que no puede ir en un mensaje. Escribe otra vez el nombre, de hasta {max} caracteres. Por ejemplo: Ana",
    "invisible_name": "Ese nombre no se ve: solo tiene caracteres invisibles (espacios de ancho cero, marcas de dirección o rellenos en blanco) o acentos sin letra. Escribe el nombre con letras, de hasta {max} caracteres. Por ejemplo: Ana",
    "ask_language": "¿Qué idioma prefieres?",
    "bad_choice": "Elige una de las opciones.",
    "ask_timezone": (
        "¿En qué zona horaria estás? Comparte tu ubicación, elige una ciudad o escribe una "
        "ciudad o zona horaria (por ejemplo: Madrid o America/Chicago)."
    ),
    "zone_unknown": "No sé dónde vives, así que no he podido programar tus recordatorios.",
    "ask_timezone_typed": (
        "¿En qué zona horaria estás? Elige o escribe una ciudad o zona horaria "
        "(por ejemplo: Madrid o America/Chicago)."
    ),
    "bad_timezone": (
        "No conozco ese lugar. Escribe una ciudad grande cercana o una zona horaria, "
        "por ejemplo: Chicago o Europe/Madrid."
    ),
    "abbreviated_timezone": (
        "{abbreviation} es una abreviatura de zona horaria: no dice si tu reloj cambia en "
        "verano. Escribe tu ciudad, como Miami."
    ),
    # "{time:son}": "son las 6:50", "es la 1:50" (bot.texts): "es 1:50" said the time bare.
    "confirm_timezone": "¿Ahora {time:son} donde estás ({zone})?",
    "near_timezone": "No conozco ese lugar. ¿Quieres decir {zone}? (Allí ahora {time:son}.)",
    "btn_tz_not_it": "No, otro lugar",
    "timezone_kept": "Tu zona horaria es {zone} (allí ahora {time:son}); los recordatorios la siguen. Para cambiarla, envía /settings.",
    "timezone_kept_away": "Tu zona horaria es {zone} (allí ahora {time:son}); tus recordatorios mantienen sus horas en {home}, tu zona horaria de casa, como en un viaje.",
    "timezone_moved_hint": "Si te has mudado a {zone}, envía /settings y elige Zona horaria otra vez.",
    "timezone_unchanged": "Tu zona horaria sigue siendo {zone} (allí ahora {time:son}). Para cambiarla, envía /settings.",
    "timezone_not_chosen": "Aún no has elegido tu zona horaria: los recordatorios siguen {zone} (allí ahora {time:son}). Para elegir la tuya, envía /settings.",
    "btn_tz_other": "No, cambiarla",
    "ask_phone": (
        "Opcional: comparte tu número de teléfono para enviarte SMS si Telegram no funciona. "
        "Envíalo como {example}, u omite este paso."
    ),
    "ask_phone_chat": (
        "Opcional: tu número de teléfono, para enviarte SMS cuando no estés en este chat. "
        "Envíalo como {example}, u omite este paso."
    ),
    "bad_phone": "Eso no parece un número de teléfono. Envíalo como {example}, u omítelo.",
    "phone_taken": (
        "Ese número ya está registrado para otra persona, así que no puedo añadirlo aquí."
        " Envía otro número u omítelo. Si es tuyo, pide a tu clínica que lo actualice."
    ),
    "phone_pending": (
        "Guardado. Antes de enviarte SMS a ese número, envía desde él un SMS cualquiera al"
        " {number}, una vez, para saber que es tuyo."
    ),
    "phone_pending_reply": (
        "Guardado. Te enviaré SMS a ese número cuando haya enviado un SMS a este servicio,"
        " para saber que es tuyo."
    ),
    "ask_channels": "¿Por dónde te envío primero los recordatorios?",
    "channels_first": "Primero {first}, luego {second}",
    "channels_only": "Solo {first}",
    "onboarded": "¡Listo, {name}! Añade tu primer medicamento con /add.",
}
