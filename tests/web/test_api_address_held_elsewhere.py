"""A phone or e-mail another patient record holds is said, at registration, to be unusable for
the new patient, without a word about whoever holds it; through a real ``medremind web``.

Left by session 27: ``POST /patients`` with a number another record held answered exactly as
for a new number (the dashboard then showed "sms: ok"), and the patient's first message failed
with "no usable contact point": the clinic learnt from a failure, too late, what it could have
been told at once. Now the contact is listed with ``held_elsewhere`` and the create's
``warnings`` say what to do. Whoever holds it stays unknown: a self-registered patient's number
and another clinic's patient's get the very same answer, which names neither (nor that clinic);
only a patient of the clinic's own (whose record it reads anyway) is named, by id.
"""

from __future__ import annotations

import httpx

from tests.factories import create_organization, create_patient
from tests.web.processes import clinic_key

THEIRS = "+14155550161"  # another clinic's patient's
OWN = "+14155550162"  # a patient registered in the bot on their own
MINE = "+14155550163"  # this clinic's own patient's
FRESH = "+14155550164"


async def test_a_held_number_is_said_unusable_and_nothing_about_its_holder(
    db, admin_conn, web_process
):
    org, key = await clinic_key(db, admin_conn, "North Clinic")
    other = await create_organization(admin_conn, name="Southern Secret Clinic")
    await create_patient(admin_conn, other["id"], contacts={"sms": THEIRS}, display_name="Zed Q")
    await create_patient(admin_conn, None, contacts={"sms": OWN}, display_name="Yan Own")
    mine = await create_patient(admin_conn, org["id"], contacts={"sms": MINE}, display_name="Ana")
    _, base = await web_process()
    request = {"display_name": "Ana B", "channel_order": ["sms"], "consent": True}
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        answers = {}
        for phone in (THEIRS, OWN, MINE, FRESH):
            answer = await http.post(
                "/api/v1/patients",
                json=request | {"phone": phone},
                headers={"Idempotency-Key": f"held-{phone}"},
            )
            assert answer.status_code == 201, answer.text
            answers[phone] = answer.json()

        fresh = answers[FRESH]
        assert fresh["warnings"] == []
        assert [c["held_elsewhere"] for c in fresh["contacts"]] == [False]

        # Another clinic's patient's number and a self-registered one's: the same answer.
        theirs, own = answers[THEIRS], answers[OWN]
        assert [c["held_elsewhere"] for c in theirs["contacts"]] == [True]
        assert theirs["warnings"] == own["warnings"]
        [warning] = theirs["warnings"]
        assert (warning["code"], warning["field"]) == ("address_held_elsewhere", "phone")
        assert warning["message"].startswith("This number cannot be used for this patient")
        assert "invite" in warning["message"]
        for holder in ("Southern", "Zed", "Yan", str(other["id"])):
            assert holder not in str(theirs) and holder not in str(own), holder

        # The clinic's own patient: named, since it reads that record anyway.
        [warning] = answers[MINE]["warnings"]
        assert str(mine["id"]) in warning["message"]

        # Read later, the contact still says so; a replay repeats the first answer's warnings.
        later = (await http.get(f"/api/v1/patients/{theirs['id']}")).json()
        assert [c["held_elsewhere"] for c in later["contacts"]] == [True]
        replay = await http.post(
            "/api/v1/patients",
            json=request | {"phone": THEIRS},
            headers={"Idempotency-Key": f"held-{THEIRS}"},
        )
        assert replay.json()["id"] == theirs["id"]
        assert replay.json()["warnings"] == theirs["warnings"]

        # The held number is not one of the patient's channels: any order is taken, as for a
        # patient with no contact point yet (one to join by an invite link).
        moved = await http.patch(
            f"/api/v1/patients/{theirs['id']}", json={"channel_order": ["telegram"]}
        )
        assert moved.status_code == 200, moved.text
