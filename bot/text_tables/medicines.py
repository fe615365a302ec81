# ruff: noqa: E501  (user-facing sentences read better unbroken)
"""Texts of adding a medicine and of the medicine list (pause, resume, edit times, delete).

One of the tables :mod:`bot.texts` merges; ``EN`` and ``ES`` hold the same keys.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # Add medicine
    "ask_med_name": "What is the medicine called? For example: Metformin",
    "bad_med_name": "Please send the medicine's name, up to {max} characters. For example: Metformin",
    "ask_dose": "What dose do you take each time? For example: 500 mg or 1 tablet",
    "ask_dose_numbered": (
        "What dose do you take each time? For example: 500 mg or 1 tablet. Or reply SKIP."
    ),
    "bad_dose": "Please send the dose, up to {max} characters. For example: 1 tablet",
    # A control character that is not a space (pasted from another program): it would print
    # nothing or garbage in every reminder (bot.parsing.has_control_character).
    "control_med_name": "That name holds an invisible control character (often pasted from another program), which cannot go into a reminder. Please type the medicine's name again. For example: Metformin",
    "control_dose": "That dose holds an invisible control character (often pasted from another program), which cannot go into a reminder. Please type the dose again. For example: 1 tablet",
    # How often is read too (bot.dose_frequency): named, or nobody knows to type it.
    "ask_times": "At what times? Pick or type times like 8:00, 20:30 or 8pm, or how often (3 times a day, every 8 hours), then Done.",
    "times_so_far": "Times so far: {times}. Add more or press Done.",
    # SMS, WhatsApp, console: no numbered menu, a number typed is an hour (bot.dialogs.medicines).
    # The quick picks on the 12-hour clock every English time is said on ("10:00 PM").
    "ask_times_numbered": (
        "At what times? Type them like 8:00, 20:30 or 8pm (a number alone is the hour: 8 is"
        " 8:00), morning, noon, evening, bedtime (8 AM, 12 PM, 6 PM, 10 PM), or how often:"
        " 3 times a day, every 8 hours. Then reply DONE."
    ),
    "times_so_far_numbered": "Times so far: {times}. Type another time, or reply DONE.",
    # "3 times a day" typed at the times question: its usual times (bot.dose_frequency).
    "times_suggested": (
        "{how}: {times}. Press Done to keep these times, or pick or type the times you want"
        " instead."
    ),
    "times_suggested_numbered": (
        "{how}: {times}. Reply DONE to keep these times, or type the times you want instead."
    ),
    "freq_per_day": "{n} times a day",
    "freq_every_hours": "Every {n} hours",
    "ask_edit_times_numbered": (
        "New times for {name}? Type them like 8:00, 20:30 or 8pm (8 alone is 8:00), or morning,"
        " noon, evening, bedtime. Then reply DONE."
    ),
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
    "ask_start": "When do you start? Pick one or type a date like {example}.",
    "btn_today": "Today",
    "btn_tomorrow": "Tomorrow",
    "bad_date": "I couldn't read that date. Try {example} or {typed} ({order}).",
    "date_month_first": "month first",
    "date_day_first": "day first",
    # A typed "3/1" that could be 1 March or 3 January (bot.dialogs.medicine_dates).
    "ask_date_pick_start": "{typed} could be either date. When do you start?",
    "ask_date_pick_end": "{typed} could be either date. When do you stop?",
    "ask_end": "When do you stop? Type a date like {example}, how long (for 10 days), or no end date.",
    "btn_no_end": "No end date",
    "bad_end": "The end date must be on or after the start date ({start}).",
    "ask_pills": "How many pills do you have now? I'll remind you to refill. Or skip.",
    "ask_pills_numbered": (
        "How many pills do you have now? I'll remind you to refill. Or reply SKIP."
    ),
    "bad_pills": "Please send a number from 0 to {most}, for example: 30",
    "confirm_med": "{name} ({dose})\n{when}\nFrom {start}{end}{pills}\nSave it?",
    "confirm_med_end": " until {end}",
    "confirm_med_pills": "\nPills you have: {count}",
    "confirm_med_pills_doses": "\nPills you have: {count}, {doses} doses of {per_dose}",
    "btn_save": "Save",
    "med_saved": "Saved. I'll remind you at {times}.",
    "med_saved_from": "Saved. I'll remind you at {times}, starting {start}.",
    "too_many_medicines": (
        "You have {max} medicines, the most I can keep for one person. Delete one you no"
        " longer take (/meds) before adding another."
    ),
    "med_saved_paused": "Your reminders are paused: send /resume to get them again.",
    # A time the clocks skip on its next day (bot.skipped_times), worded as a snooze across the
    # change ("answer_snoozed_clocks").
    "med_saved_clocks": "The clocks change tonight, so your {time} reminder comes at {at}.",
    # The reminder named, not a bare time starting the sentence ("1:00 AM is inside ...").
    "med_quiet_chosen_one": (
        "Your reminder at {times} falls inside your quiet hours ({window}): you chose that time,"
        " so it still comes then, with its follow-ups."
    ),
    "med_quiet_chosen": (
        "Your reminders at {times} fall inside your quiet hours ({window}): you chose those"
        " times, so they still come then, with their follow-ups."
    ),
    "med_quiet_cut": (
        "Follow-ups of {times} stop at {start}, when your quiet hours begin (/settings)."
    ),
    "dose_none": "no dose given",
    "days_every": "every day",
    "days_weekdays": "on weekdays",
    "days_list": "on {days}",
    "days_every_n": "every {n} days",
    # Medicine list
    "no_meds": "You have no medicines yet. Add one with /add.",
    # A command typed in the middle of /add or of editing times dropped the draft (bot.unsaved).
    "unsaved_medicine": "{name} was not saved: adding it stopped here. Send /add to add it.",
    "unsaved_medicine_edit": "The new times for {name} were not saved: {name} keeps its times.",
    "meds_header": "Your medicines:",
    "med_line": "{n}. {name} ({dose}) at {when}{period}{paused}",
    "med_line_from": ", from {start}",
    "med_line_until": ", until {end}",
    "med_paused": " [paused]",
    "btn_pause_med": "Pause {name}",
    "btn_resume_med": "Resume {name}",
    "btn_edit_med": "Edit times of {name}",
    "btn_delete_med": "Delete {name}",
    # What a pause does and its undo: on a numbered chat the list above the menu numbers the
    # medicines too ("1. Metformin"), and a "1" meant for the first one paused it at once.
    "med_paused_done": "Paused {name}: no reminders for it until you resume it in /meds.",
    "med_resumed_done": "Resumed {name}.",
    # "pause" typed under /meds: one medicine or every reminder (bot.dialogs.medicine_pause).
    "pause_which": "Pause one medicine, or all your reminders?",
    "resume_which": "Resume one medicine, or all your reminders?",
    "btn_med_only": "{name} only",
    "btn_all_reminders": "All reminders",
    "med_deleted_done": "Deleted {name}.",
    "confirm_delete_med": "Delete {name} and its reminders?",
    "med_gone": "That medicine is no longer in your list.",
    "ask_edit_times": "New times for {name}? Pick or type, then Done.",
    # After ask_times / ask_edit_times for a traveller keeping home times: the times typed are
    # home times (the confirmation then says them where the patient is, too late for a 00:20).
    "times_on_home_clock": "Times on your home clock ({zone}, where it is {now} now): your reminders keep home times.",
    "med_times_done": "{name} will now be reminded at {times}.",
    # Moved after today's dose was reminded or answered: the day has had its doses
    # (scheduler/planning_day_quota.py). Spanish in GSM-7 letters, as the line above.
    "med_times_done_tomorrow": "{name} will now be reminded at {times}, from tomorrow (today's dose was already reminded or answered).",
    "med_times_today_only": "Today only at {times}: the day's other doses were already reminded or answered.",
    # A traveller keeping home times: the reminders say the local clock.
    "times_where_you_are": "{local} where you are ({home} at home, {zone})",
    # A schedule's times and days ("8:00 AM, every day"); a traveller's times on days of their
    # own ("7:00 AM on Tue"), groups of them joined by "; ".
    "times_and_days": "{times}, {days}",
    "times_on_days": "{times} {days}",
}

ES: dict[str, str] = {
    "ask_med_name": "¿Cómo se llama el medicamento? Por ejemplo: Metformina",
    "bad_med_name": "Envía el nombre del medicamento, de hasta {max} caracteres. Por ejemplo: Metformina",
    "ask_dose": "¿Qué dosis tomas cada vez? Por ejemplo: 500 mg o 1 pastilla",
    "ask_dose_numbered": (
        "¿Qué dosis tomas cada vez? Por ejemplo: 500 mg o 1 pastilla. O responde OMITIR."
    ),
    "bad_dose": "Envía la dosis, de hasta {max} caracteres. Por ejemplo: 1 pastilla",
    "control_med_name": "Ese nombre lleva un carácter de control invisible (suele venir al pegar desde otro programa), que no puede ir en un recordatorio. Escribe otra vez el nombre del medicamento. Por ejemplo: Metformina",
    "control_dose": "Esa dosis lleva un carácter de control invisible (suele venir al pegar desde otro programa), que no puede ir en un recordatorio. Escribe otra vez la dosis. Por ejemplo: 1 pastilla",
    "ask_times": "¿A qué horas? Elige o escribe horas como 8:00, 20:30 u 8pm, o la frecuencia (3 veces al día, cada 8 horas), y luego Listo.",
    "times_so_far": "Horas por ahora: {times}. Añade más o pulsa Listo.",
    # In GSM-7 letters (one SMS segment's alphabet): "mediodia", no "í" or "ú"; "3 veces
    # diarias" for "al día".
    "ask_times_numbered": (
        "¿A qué horas? Escribe horas como 8:00, 20:30 u 8pm (8 solo son las 8:00), mañana,"
        " mediodia, tarde, noche (8:00, 12:00, 18:00, 22:00), o la frecuencia: 3 veces"
        " diarias, cada 8 horas. Luego responde LISTO."
    ),
    "times_so_far_numbered": "Horas por ahora: {times}. Escribe otra hora, o responde LISTO.",
    "times_suggested": (
        "{how}: {times}. Pulsa Listo para quedarte con estas horas, o elige o escribe las"
        " horas que quieras."
    ),
    "times_suggested_numbered": (
        "{how}: {times}. Responde LISTO para quedarte con estas horas, o escribe las horas"
        " que quieras."
    ),
    "freq_per_day": "{n} veces al día",
    "freq_every_hours": "Cada {n} horas",
    "ask_edit_times_numbered": (
        "¿Nuevas horas para {name}? Escribe horas como 8:00, 20:30 u 8pm (8 solo son las 8:00),"
        " o mañana, mediodia, tarde, noche. Luego responde LISTO."
    ),
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
    "ask_start": "¿Cuándo empiezas? Elige o escribe una fecha como {example}.",
    "btn_today": "Hoy",
    "btn_tomorrow": "Mañana",
    "bad_date": "No he podido leer esa fecha. Prueba {example} o {typed} ({order}).",
    "date_month_first": "mes primero",
    "date_day_first": "día primero",
    "ask_date_pick_start": "{typed} puede ser cualquiera de estas fechas. ¿Cuándo empiezas?",
    "ask_date_pick_end": "{typed} puede ser cualquiera de estas fechas. ¿Cuándo terminas?",
    "ask_end": "¿Cuándo terminas? Escribe una fecha como {example}, cuánto dura (10 días), o sin fecha de fin.",
    "btn_no_end": "Sin fecha de fin",
    "bad_end": "La fecha de fin debe ser igual o posterior a la de inicio ({start}).",
    "ask_pills": "¿Cuántas pastillas tienes ahora? Te avisaré para reponer. U omítelo.",
    "ask_pills_numbered": (
        "¿Cuántas pastillas tienes ahora? Te avisaré para reponer. O responde OMITIR."
    ),
    "bad_pills": "Envía un número de 0 a {most}, por ejemplo: 30",
    "confirm_med": "{name} ({dose})\n{when}\nDesde {start}{end}{pills}\n¿Lo guardo?",
    "confirm_med_end": " hasta {end}",
    "confirm_med_pills": "\nPastillas que tienes: {count}",
    "confirm_med_pills_doses": "\nPastillas que tienes: {count}, {doses} tomas de {per_dose}",
    "btn_save": "Guardar",
    # {times:a}: each time after "a" with its article, "a la 1:00 y a las 11:00" (bot.said_times).
    "med_saved": "Guardado. Te lo recordaré {times:a}.",
    "med_saved_from": "Guardado. Te lo recordaré {times:a}, a partir del {start}.",
    "too_many_medicines": (
        "Tienes {max} medicamentos, lo máximo que puedo guardar para una persona. Borra uno"
        " que ya no tomes (/meds) antes de añadir otro."
    ),
    "med_saved_paused": "Tus recordatorios están en pausa: envía /resume para recibirlos de nuevo.",
    "med_saved_clocks": "Esta noche cambia la hora, así que tu recordatorio {time:de} llega {at:a}.",
    # "Tu recordatorio de la 1:00", each time with its article ({times:de}, bot.said_times): a
    # sentence started "1:00 está dentro ...", a bare time with no article.
    "med_quiet_chosen_one": (
        "Tu recordatorio {times:de} cae dentro de tus horas de silencio ({window}): elegiste esa"
        " hora, así que llega igual, con sus avisos siguientes."
    ),
    "med_quiet_chosen": (
        "Tus recordatorios {times:de} caen dentro de tus horas de silencio ({window}): elegiste"
        " esas horas, así que llegan igual, con sus avisos siguientes."
    ),
    "med_quiet_cut": (
        "Los avisos siguientes {times:de} se detienen a {start:hour_article} {start}, cuando empiezan tus horas"
        " de silencio (/settings)."
    ),
    "dose_none": "sin dosis indicada",
    "days_every": "todos los días",
    "days_weekdays": "entre semana",
    "days_list": "los {days}",
    "days_every_n": "cada {n} días",
    "no_meds": "Aún no tienes medicamentos. Añade uno con /add.",
    "unsaved_medicine": "{name} no se guardó: añadirlo se detuvo aquí. Escribe /add para añadirlo.",
    "unsaved_medicine_edit": "Las nuevas horas de {name} no se guardaron: {name} sigue con sus horas.",
    "meds_header": "Tus medicamentos:",
    "med_line": "{n}. {name} ({dose}) {when:a}{period}{paused}",
    "med_line_from": ", desde el {start}",
    "med_line_until": ", hasta el {end}",
    "med_paused": " [en pausa]",
    "btn_pause_med": "Pausar {name}",
    "btn_resume_med": "Reanudar {name}",
    "btn_edit_med": "Cambiar horas de {name}",
    "btn_delete_med": "Borrar {name}",
    "med_paused_done": "{name} en pausa: no te recordaré sus dosis hasta que lo reanudes en /meds.",
    "med_resumed_done": "{name} reanudado.",
    "pause_which": "¿Pauso un medicamento, o todos tus recordatorios?",
    "resume_which": "¿Reanudo un medicamento, o todos tus recordatorios?",
    "btn_med_only": "Solo {name}",
    "btn_all_reminders": "Todos los recordatorios",
    "med_deleted_done": "{name} borrado.",
    "confirm_delete_med": "¿Borrar {name} y sus recordatorios?",
    "med_gone": "Ese medicamento ya no está en tu lista.",
    "ask_edit_times": "¿Nuevas horas para {name}? Elige o escribe, y luego Listo.",
    "times_on_home_clock": "Horas del reloj de casa ({zone}, donde ahora {now:son}): tus recordatorios siguen la hora de casa.",
    "med_times_done": "Te recordaré {name} {times:a}.",
    "med_times_done_tomorrow": "Te recordaré {name} {times:a} a partir de mañana (la toma de hoy ya fue recordada o respondida).",
    "med_times_today_only": "Hoy solo {times:a}: las otras tomas de hoy ya fueron recordadas o respondidas.",
    "times_where_you_are": "{local} donde estás ({home} en casa, {zone})",
    "times_and_days": "{times}, {days}",
    "times_on_days": "{times} {days}",
}
