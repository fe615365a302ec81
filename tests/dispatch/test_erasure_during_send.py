"""Attack run (for the dispatcher's owner): a patient erased while their message is being sent
poisons the worker's outcome recorder.

Erasure deletes every row that points at the patient, the message being sent included. The send's
outcome, recorded after it, then names a message that no longer exists: the recorder's statement
fails with a foreign key violation, is retried every few seconds ("recording outcomes failed;
retrying"), and every later outcome of the worker joins the failing batch. Seen by hand on
``medremind worker``: another clinic's patient got the same follow-up five times, every 90
seconds (the lease expired, the reaper returned it, it was sent again), until the worker was
restarted and the outcomes dropped ("could not record outcomes at shutdown").

The recorder now leaves out the outcomes whose message is gone and records the others
(``scheduler.claims.without_erased``); this test failed before that.
"""

from __future__ import annotations

import asyncio

import asyncpg

from platforms.base import Channel, OutboundMessage, Receipt
from scheduler.dispatcher import Dispatcher
from tests import factories
from tests.dispatch.conftest import NOON
from tests.dispatch.recording import RecordingSender
from tests.dispatch.test_dispatcher import MakeDispatcher


class ErasingSender(RecordingSender):
    """Sends, and erases the patient at ``victim`` while the send is in flight."""

    def __init__(self, conn: asyncpg.Connection, victim: str, patient_id: object) -> None:
        super().__init__(Channel.TELEGRAM)
        self._conn, self._victim, self._patient_id = conn, victim, patient_id

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        receipt = await super().send(address, message)
        if address == self._victim:
            await self._conn.execute(
                "select public.erase_patient($1, 'erased during the send', now())",
                self._patient_id,
            )
        return receipt


async def test_an_erasure_during_a_send_does_not_hold_other_outcomes(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    erased_clinic = await factories.create_organization(admin_conn)
    other_clinic = await factories.create_organization(admin_conn)
    erased = await factories.create_patient(
        admin_conn, erased_clinic["id"], contacts={"telegram": "9001"}
    )
    other = await factories.create_patient(
        admin_conn, other_clinic["id"], contacts={"telegram": "9002"}
    )
    await factories.create_message(admin_conn, erased["id"], scheduled_time=NOON)
    bystander = await factories.create_message(admin_conn, other["id"], scheduled_time=NOON)
    sender = ErasingSender(admin_conn, "9001", erased["id"])
    dispatcher: Dispatcher
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: sender})

    await asyncio.wait_for(dispatcher.run_once(), timeout=30)

    row = await admin_conn.fetchrow(
        "select status, attempts from scheduled_messages where id = $1", bystander["id"]
    )
    assert row is not None and row["status"] == "sent", row
    assert (
        await admin_conn.fetchval(
            "select count(*) from message_delivery_attempts where message_id = $1", bystander["id"]
        )
        == 1
    )
