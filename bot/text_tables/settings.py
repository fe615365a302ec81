# ruff: noqa: E501  (user-facing sentences read better unbroken)
"""Texts of the settings menu: time zone, quiet hours, language, channels, caregiver, follow-ups.

One of the tables :mod:`bot.texts` merges; ``EN`` and ``ES`` hold the same keys.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "settings_menu": (
        "Settings:\nTime zone: {zone} ({mode})\nQuiet hours: {quiet}\nLanguage: {language}\n"
        "Channels: {channels}\nCaregiver: {caregiver}\nMedicine names in reminders: {names}\n"
        "Follow-ups: {followups}"
    ),
    "nag_none": "none",
    "nag_once": "once, after {nag} min",
    "nag_many": "every {nag} min, up to {nag_max} times",
    "mode_home": "keep home times",
    "mode_home_away": "keep home times: {home}",
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
    # What the mode chosen does to reminder times (it was "Saved." alone), and the next reminder.
    "tz_mode_home_saved": "Saved. Reminders keep their times in {home}, your home time zone, even when you travel.",
    "tz_mode_follow_saved": "Saved. Reminders come at their times in the time zone you are in, now {zone}: when you travel, set the new one in Time zone.",
    "tz_next_reminder": "Your next reminder: {time} ({zone}).",
    # A 'home'-mode patient's new zone: a move (home moves) or a trip (home times kept)?
    "ask_zone_moved": "Did you move to {zone}, or are you travelling? Moved: reminders come at their times in {zone}. Travelling: they keep your home times ({home}).",
    "btn_zone_moved": "I moved here",
    "btn_zone_trip": "Travelling",
    "caregiver_stays": "{name}'s alerts still wait for the night to end in {zone}: if they moved too, change it in Caregiver.",
    "tz_next_reminder_away": "Your next reminder: {time} in {home} ({here} where you are, {zone}).",
    "ask_quiet": "Quiet hours: no non-urgent messages between two times. Type like 22:00-07:00, none, or default.",
    "bad_quiet": "Please type two times like 22:00-07:00, none, or default.",
    "same_quiet": "The two times must differ, like 22:00-07:00. Type none for no quiet hours.",
    "ask_names": "May reminders name your medicine? Others may see your screen.",
    "btn_names_yes": "Yes, name it",
    "btn_names_no": "No, keep it generic",
    "ask_nag": "If you don't answer, how often should I remind you again? Type minutes and times, like 15 3 (every 15 minutes, up to 3 times), or 0 for never.",
    "bad_nag": "Please type two numbers like 15 3, or 0.",
    "ask_caregiver_name": "Who should I tell if you miss a dose? Send their name, or remove.",
    "ask_first_caregiver_name": "Who should I tell if you miss a dose? Send their name.",
    "btn_remove": "Remove caregiver",
    "ask_caregiver_channel": "How should I reach them?",
    "ask_caregiver_number_channel": "Should I reach them at that number by SMS or WhatsApp?",
    "ask_caregiver_address": "Their phone number (like {example})?",
    "caregiver_telegram_unavailable": (
        "Caregivers on Telegram are not available here. Choose SMS, WhatsApp or e-mail: their"
        " own phone number or e-mail address."
    ),
    "caregiver_chat_not_typed": (
        "No chat id is needed: at the end I will give you a link for them to open in Telegram."
    ),
    # As caregiver_relink: one SMS of three segments even in UCS-2 (caregiver_links.short_name).
    "caregiver_link": (
        "Send {name} this link: alerts start when they open it in Telegram and tap Start (valid"
        " {days} days): {link}"
    ),
    "caregiver_link_unavailable": (
        "I could not make a Telegram link just now. Please try again later, or choose SMS,"
        " WhatsApp or e-mail."
    ),
    "caregiver_link_used": "{name} opened your link: their Telegram now gets your missed-dose alerts.",
    # With the link (up to 98 characters) and a name of up to 12 (medremind/caregiver_relinks.py)
    # within three SMS segments even in UCS-2 (201 characters: an accent in the name, Spanish).
    "caregiver_relink": (
        "Alerts to {name} on Telegram are off until they open this link; forward it (valid"
        " {days} days): {link}"
    ),
    # The second and last, when the first expired unopened (as short).
    "caregiver_relink_again": (
        "{name}'s link expired unopened; alerts stay off. Forward this one, the last (valid"
        " {days} days): {link}"
    ),
    "bad_email": "That does not look like an e-mail address. For example: name@example.org",
    "ask_caregiver_email": "Their e-mail address?",
    "bad_address": "That does not look right. For example: {example}",
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
    # After "Same as mine": the zone stored, the patient's home one (kept when they travel).
    "caregiver_zone_kept": "{name}'s night is counted in {zone}, your home time zone, even when you travel.",
    "ask_caregiver_delay": "How many minutes after a missed dose should I alert them? For example: 30",
    "bad_delay": "Please send minutes from 0 to 1440. For example: 30",
    "caregiver_removed": "Caregiver removed.",
    "caregiver_pending": (
        "Alerts to {name} start once their phone has sent us a message at {number}, so we"
        " know they agree to get them."
    ),
    "caregiver_pending_reply": (
        "Alerts to {name} start once their phone has sent a message to this service, so we"
        " know they agree to get them."
    ),
    "saved": "Saved.",
    "quiet_saved": "Saved. Quiet hours: {quiet}.",
    # What the caregiver step set up, said back: a patient who typed a name, a number and minutes
    # over four steps heard only "Saved." (found in medremind dev's console).
    # A command typed in the middle of adding a caregiver dropped it (bot.unsaved).
    "unsaved_caregiver": "{name} was not saved as your caregiver. Send /settings to add them.",
    "caregiver_saved": (
        "Saved. When you miss a dose, {name} gets an alert by {channel} {after} (if that is at"
        " night where they live, in the morning)."
    ),
    "caregiver_after_minutes": "{minutes} min later",
    "caregiver_after_now": "at once",
    "lang_en": "English",
    "lang_es": "Español",
}

ES: dict[str, str] = {
    "settings_menu": (
        "Ajustes:\nZona horaria: {zone} ({mode})\nHoras de silencio: {quiet}\nIdioma: {language}\n"
        "Canales: {channels}\nCuidador: {caregiver}\nNombre del medicamento en recordatorios: "
        "{names}\nAvisos extra: {followups}"
    ),
    "nag_none": "ninguno",
    "nag_once": "uno, a los {nag} min",
    "nag_many": "cada {nag} min, hasta {nag_max} veces",
    "mode_home": "mantener horas de casa",
    "mode_home_away": "mantener horas de casa: {home}",
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
    "tz_mode_home_saved": "Guardado. Los recordatorios mantienen sus horas en {home}, tu zona horaria de casa, aunque viajes.",
    "tz_mode_follow_saved": "Guardado. Los recordatorios llegan a sus horas en la zona horaria en la que estás, ahora {zone}: cuando viajes, pon la nueva en Zona horaria.",
    "tz_next_reminder": "Tu próximo recordatorio: {time} ({zone}).",
    "ask_zone_moved": "¿Te has mudado a {zone} o estás de viaje? Mudanza: los recordatorios llegan a sus horas en el reloj de {zone}. Viaje: mantienen tus horas de casa ({home}).",
    "btn_zone_moved": "Me he mudado",
    "btn_zone_trip": "Estoy de viaje",
    "caregiver_stays": "Los avisos a {name} siguen esperando al final de la noche en {zone}: si se ha mudado también, cámbialo en Cuidador.",
    "tz_next_reminder_away": "Tu próximo recordatorio: {time} en {home} ({here} donde estás, {zone}).",
    "ask_quiet": "Horas de silencio: sin mensajes no urgentes entre dos horas. Escribe 22:00-07:00, ninguna o predeterminado.",
    "bad_quiet": "Escribe dos horas como 22:00-07:00, ninguna o predeterminado.",
    "same_quiet": "Las dos horas deben ser distintas, como 22:00-07:00. Escribe ninguna para no tener horas de silencio.",
    "ask_names": "¿Pueden los recordatorios nombrar tu medicamento? Otros podrían ver tu pantalla.",
    "btn_names_yes": "Sí, nombrarlo",
    "btn_names_no": "No, mensaje genérico",
    "ask_nag": "Si no respondes, ¿cada cuánto te lo recuerdo? Escribe minutos y veces, como 15 3 (cada 15 minutos, hasta 3 veces), o 0 para nunca.",
    "bad_nag": "Escribe dos números como 15 3, o 0.",
    "ask_caregiver_name": "¿A quién aviso si olvidas una dosis? Envía su nombre, o quítalo.",
    "ask_first_caregiver_name": "¿A quién aviso si olvidas una dosis? Envía su nombre.",
    "btn_remove": "Quitar cuidador",
    "ask_caregiver_channel": "¿Cómo le aviso?",
    "ask_caregiver_number_channel": "¿Le aviso en ese número por SMS o por WhatsApp?",
    "ask_caregiver_address": "¿Su número de teléfono (como {example})?",
    "caregiver_telegram_unavailable": (
        "Los cuidadores en Telegram no están disponibles aquí. Elige SMS, WhatsApp o correo"
        " electrónico: su propio número de teléfono o correo."
    ),
    "caregiver_chat_not_typed": (
        "No hace falta ningún id de chat: al final te daré un enlace para que lo abra en Telegram."
    ),
    "caregiver_link": (
        "Envía a {name} este enlace: tendrá avisos al abrirlo en Telegram y pulsar Iniciar (vale"
        " {days} días): {link}"
    ),
    "caregiver_link_unavailable": (
        "No pude crear un enlace de Telegram ahora. Inténtalo más tarde, o elige SMS, WhatsApp o"
        " correo electrónico."
    ),
    "caregiver_link_used": (
        "{name} abrió tu enlace: su Telegram ya recibe tus avisos de dosis olvidadas."
    ),
    "caregiver_relink": (
        "Avisos a {name} por Telegram parados hasta que abra este enlace; reenvíaselo (sirve"
        " {days} días): {link}"
    ),
    "caregiver_relink_again": (
        "El enlace de {name} caducó sin abrir: sigue sin avisos. Reenvíale este, el último (vale"
        " {days} días): {link}"
    ),
    "bad_email": "Eso no parece un correo electrónico. Por ejemplo: nombre@ejemplo.org",
    "ask_caregiver_email": "¿Su correo electrónico?",
    "bad_address": "Eso no parece correcto. Por ejemplo: {example}",
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
    "caregiver_zone_kept": "La noche de {name} se cuenta en {zone}, tu zona horaria de casa, aunque viajes.",
    "ask_caregiver_delay": "¿Cuántos minutos después de una dosis olvidada le aviso? Por ejemplo: 30",
    "bad_delay": "Envía minutos del 0 al 1440. Por ejemplo: 30",
    "caregiver_removed": "Cuidador quitado.",
    "caregiver_pending": (
        "Los avisos a {name} empezarán cuando su teléfono nos haya enviado un mensaje al"
        " {number}, para saber que acepta recibirlos."
    ),
    "caregiver_pending_reply": (
        "Los avisos a {name} empezarán cuando su teléfono haya enviado un mensaje a este"
        " servicio, para saber que acepta recibirlos."
    ),
    "saved": "Guardado.",
    "quiet_saved": "Guardado. Horas de silencio: {quiet}.",
    "unsaved_caregiver": "{name} no se guardó como tu cuidador. Escribe /settings para añadirlo.",
    "caregiver_saved": (
        "Guardado. Si olvidas una dosis, {name} recibirá un aviso por {channel} {after} (si"
        " es de noche donde vive, por la mañana)."
    ),
    "caregiver_after_minutes": "{minutes} min después",
    "caregiver_after_now": "enseguida",
    "lang_en": "English",
    "lang_es": "Español",
}
