"""An e-mail address is one mailbox however its letters are cased; through a real ``medremind web``.

Found by hand (session 29, two clinics' integrators): ``POST /patients`` stored an e-mail as typed
and held it unique by its exact text, so ``Ana.Lopez@Example.COM`` at one clinic and
``ana.lopez@example.com`` at another were two contact points of two records for one mailbox
(neither ``held_elsewhere``: the one-person-one-record rule, docs/data-model.md, did not hold),
and ``GET /patients?q=`` with the address cased otherwise than stored found nobody. E-mail
addresses are now stored in lower case by the database for every writer (migration
20260101018040), so the unique (channel, address) sees one mailbox, and a search by address
finds it in any case.
"""

from __future__ import annotations

import httpx

from tests.factories import create_patient
from tests.web.processes import clinic_key

TYPED = "Ana.Lopez@Example.COM"
STORED = "ana.lopez@example.com"


async def test_one_mailbox_in_two_cases_is_one_address(db, admin_conn, web_process):
    _, key_a = await clinic_key(db, admin_conn, "Case Clinic A")
    _, key_b = await clinic_key(db, admin_conn, "Case Clinic B")
    _, base = await web_process()
    request = {"display_name": "Ana Lopez", "channel_order": ["email"], "consent": True}
    async with (
        httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {key_a}"}, timeout=30
        ) as a,
        httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {key_b}"}, timeout=30
        ) as b,
    ):
        first = await a.post("/api/v1/patients", json=request | {"email": TYPED})
        assert first.status_code == 201, first.text
        assert [c["address"] for c in first.json()["contacts"]] == [STORED]

        # The same mailbox at another clinic: held elsewhere, as the exact same text is.
        second = await b.post("/api/v1/patients", json=request | {"email": STORED})
        assert second.status_code == 201, second.text
        assert [c["held_elsewhere"] for c in second.json()["contacts"]] == [True]
        assert [w["code"] for w in second.json()["warnings"]] == ["address_held_elsewhere"]

        # Found by its address in any case.
        for q in (TYPED, STORED, "ANA.LOPEZ@EXAMPLE.COM"):
            found = await a.get("/api/v1/patients", params={"q": q})
            assert [p["id"] for p in found.json()["data"]] == [first.json()["id"]], q


async def test_every_writer_stores_an_email_address_in_lower_case(admin_conn):
    """The dashboard and the bot insert contact points and caregivers themselves: the database
    lowers the address whoever writes it (an invitation's claimed address too)."""
    patient = await create_patient(admin_conn, None, contacts={"email": "  Bo@Mail.Example "})
    assert await admin_conn.fetchval(
        "select address from contact_points where patient_id = $1", patient["id"]
    ) == ("bo@mail.example")
    await admin_conn.execute(
        "update contact_points set address = 'Bo.Two@Mail.Example' where patient_id = $1",
        patient["id"],
    )
    assert await admin_conn.fetchval(
        "select address from contact_points where patient_id = $1", patient["id"]
    ) == ("bo.two@mail.example")
    # Other channels keep their address as given (a Telegram chat id, an E.164 number).
    other = await create_patient(admin_conn, None, contacts={"sms": "+14155550171"})
    assert await admin_conn.fetchval(
        "select address from contact_points where patient_id = $1", other["id"]
    ) == ("+14155550171")
