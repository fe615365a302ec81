"""An address a clinic enters that another patient record already holds: said at entry.

A contact point (channel, address) belongs to one record (docs/data-model.md, "One person, one
record"), so a number or e-mail address another record holds is kept with the clinic's new
record only as an invitation to its owner (``public.invite_address_owner``): nothing is sent to
it for this patient. The answer used to list it like a new address ("sms: ok" on the dashboard)
while the patient's first message failed with "no usable contact point": the clinic learnt too
late, from a failure, what it could have been told at once.

What the clinic is told holds nothing about whoever holds the address: not who, not which clinic
or whether any, not whether they were sent anything. Only a patient of the clinic's own (whose
record and contact points it reads anyway) is named, by id, since registering one person twice
is the likeliest cause and opening that record is the fix.
"""

from __future__ import annotations

import uuid

import asyncpg

from core.sql import query

# The request fields an address comes from, by channel.
_FIELD = {"sms": "phone", "whatsapp": "phone", "email": "email"}
_WHAT = {"phone": "number", "email": "e-mail address"}


async def held_warning(
    conn: asyncpg.Connection, org_id: uuid.UUID, channel: str, address: str
) -> dict[str, str]:
    """The ``address_held_elsewhere`` warning for ``address`` on ``channel``, which another
    record holds: what it means for this patient and what to do."""
    field = _FIELD.get(channel, channel)
    what = _WHAT.get(field, "address")
    own = await conn.fetchval(query("web", "own_patient_holding"), org_id, channel, address)
    if own is not None:
        message = (
            f"This {what} cannot be used for this patient: it is already the {what} of your"
            f" patient {own}, and one {what} reaches one patient, so nothing is sent to it for"
            " this one. If both records are the same person, keep that one and erase this"
            " (DELETE /patients/{id}); otherwise register this patient with their own"
            f" {what}, or link Telegram with an invite link (POST /patients/{{id}}/invites)"
        )
    else:
        message = (
            f"This {what} cannot be used for this patient: it is already registered in"
            f" MedRemind to another record, so nothing is sent to it for this patient. If it is"
            " the patient's own and they already use MedRemind with it, make an invite link"
            " (POST /patients/{id}/invites) and have them open it there: joining your clinic"
            f" brings the {what} to this record. Otherwise register the patient with another"
            f" {what} (this record has none: erase it with DELETE /patients/{{id}}), or link"
            " Telegram with an invite link"
        )
    return {"code": "address_held_elsewhere", "field": field, "message": message}
