"""The /settings caregiver dialog asks for the caregiver's own timezone (for their quiet hours)."""

from __future__ import annotations

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient


async def _to_timezone_step(bot: Bot, chat: int, name: str = "Lucía") -> None:
    """/settings -> Caregiver -> name, SMS, number: the dialog now asks for the timezone."""
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    await bot.send(chat, name)
    await bot.press(chat, "SMS")
    await bot.send(chat, "+34 600 123 456")
    assert f"Which time zone does {name} live in?" in bot.last_text(chat)
    assert bot.labels(chat) == ["Same as mine"]


async def test_a_typed_city_stores_the_caregivers_zone_and_shows_it(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, timezone="America/Mexico_City")
    await _to_timezone_step(bot, chat)
    await bot.send(chat, "madrid")  # a city, any case: the patient's own timezone parser
    assert "How many minutes" in bot.last_text(chat)
    await bot.press(chat, "30")
    # What was set up is said back (it was a bare "Saved.").
    assert bot.last_text(chat) == (
        "Saved. When you miss a dose, Lucía gets an alert by SMS 30 min later (if that is at"
        " night where they live, in the morning)."
    )

    row = await admin_conn.fetchrow("select name, address, timezone from caregivers where active")
    assert (row["name"], row["address"], row["timezone"]) == (
        "Lucía",
        "+34600123456",
        "Europe/Madrid",
    )
    await bot.send(chat, "/settings")
    assert "Caregiver: Lucía (Madrid)" in bot.last_text(chat)


async def test_a_typed_iana_name_is_stored_as_given(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await _to_timezone_step(bot, chat)
    await bot.send(chat, "Asia/Kolkata")
    await bot.press(chat, "60")
    assert await admin_conn.fetchval("select timezone from caregivers where active") == (
        "Asia/Kolkata"
    )


async def test_same_as_mine_stores_the_patients_zone_and_replaces_an_earlier_one(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, timezone="Europe/Madrid")
    await _to_timezone_step(bot, chat, name="Pedro")
    await bot.send(chat, "Chicago")
    await bot.press(chat, "30")
    await _to_timezone_step(bot, chat, name="Pedro")
    await bot.press(chat, "Same as mine")
    await bot.press(chat, "30")
    # The zone kept is said back: the patient's home zone, not wherever they travel next.
    assert bot.last_text(chat).endswith(
        "Pedro's night is counted in Madrid, your home time zone, even when you travel."
    )

    rows = await admin_conn.fetch("select timezone, active from caregivers order by created_at")
    assert [(r["timezone"], r["active"]) for r in rows] == [
        ("America/Chicago", False),
        ("Europe/Madrid", True),
    ]
    await bot.send(chat, "/settings")
    assert "Caregiver: Pedro (Madrid)" in bot.last_text(chat)


async def test_same_as_mine_keeps_the_home_zone_not_the_trip(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A patient away from home (a 'home'-mode patient whose planner pinned Madrid, now in
    Tokyo) who says "Same as mine": the caregiver is at home, in Madrid."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, timezone="Asia/Tokyo")
    await admin_conn.execute(
        "update patients set home_timezone = 'Europe/Madrid' where id = $1", patient["id"]
    )
    await _to_timezone_step(bot, chat, name="Pedro")
    await bot.press(chat, "Same as mine")
    await bot.press(chat, "30")
    assert await admin_conn.fetchval("select timezone from caregivers") == "Europe/Madrid"


async def test_an_unknown_zone_reprompts_and_stores_nothing(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await _to_timezone_step(bot, chat)
    # "localtime": a zone file Python lists but Postgres does not (the database check decides).
    for unknown in ("Narnia", "Mars/Olympus_Mons", "UTC+3", "localtime"):
        await bot.send(chat, unknown)
        assert bot.last_text(chat).startswith("I don't know that place."), unknown
        assert "Same as mine" in bot.last_text(chat)
        assert bot.labels(chat) == ["Same as mine"]  # still at the timezone step
    assert await admin_conn.fetchval("select count(*) from caregivers") == 0
    # The step is still waiting: a valid answer moves on.
    await bot.send(chat, "Europe/Lisbon")
    await bot.press(chat, "120")
    assert await admin_conn.fetchval("select timezone from caregivers") == "Europe/Lisbon"


async def test_the_dialog_in_spanish(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, locale="es")
    await bot.send(chat, "/settings")
    await bot.press(chat, "Cuidador")
    await bot.send(chat, "Lucía")
    await bot.press(chat, "SMS")
    await bot.send(chat, "+34 600 123 456")
    assert "¿En qué zona horaria vive Lucía?" in bot.last_text(chat)
    await bot.send(chat, "Atlántida")
    assert bot.last_text(chat).startswith("No conozco ese lugar.")
    await bot.press(chat, "Igual que yo")
    await bot.press(chat, "30")
    zone = await admin_conn.fetchval("select timezone from patients")
    assert await admin_conn.fetchval("select timezone from caregivers") == zone
    assert bot.last_text(chat).endswith(
        f"La noche de Lucía se cuenta en {zone}, tu zona horaria de casa, aunque viajes."
    )
    await bot.send(chat, "/settings")
    assert f"Cuidador: Lucía ({zone})" in bot.last_text(chat)


async def test_an_alert_at_once_is_said_back_in_the_patients_language(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, timezone="Europe/Madrid")
    await admin_conn.execute("update patients set locale = 'es'")
    await bot.send(chat, "/ajustes")
    await bot.press(chat, "Cuidador")
    await bot.send(chat, "Lucía")
    await bot.press(chat, "SMS")
    await bot.send(chat, "+34 600 123 456")
    await bot.press(chat, "Igual que yo")
    await bot.send(chat, "0")
    said = [call.text for call in bot.messages_to(chat)]
    assert (
        "Guardado. Si olvidas una dosis, Lucía recibirá un aviso por SMS enseguida (si es de"
        " noche donde vive, por la mañana). La noche de Lucía se cuenta en Madrid, tu"
        " zona horaria de casa, aunque viajes."
    ) in said


async def test_an_email_caregiver_is_said_back_with_e_mail_as_a_word_of_the_sentence(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """The channel's button reads "Correo"; inside the sentence it is a common noun ("por
    correo", not "por Correo": found in medremind dev's console)."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, timezone="Europe/Madrid")
    await admin_conn.execute("update patients set locale = 'es'")
    await bot.send(chat, "/ajustes")
    await bot.press(chat, "Cuidador")
    await bot.send(chat, "Pedro")
    await bot.press(chat, "Correo")
    await bot.send(chat, "pedro@example.org")
    await bot.press(chat, "Igual que yo")
    await bot.send(chat, "30")
    assert bot.last_text(chat).startswith(
        "Guardado. Si olvidas una dosis, Pedro recibirá un aviso por correo 30 min después"
    )
