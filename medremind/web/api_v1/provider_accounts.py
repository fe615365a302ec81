"""``/api/v1/provider-accounts``: the clinic's own Twilio SMS / WhatsApp sender, SMTP server and
Telegram bot.

``PUT /provider-accounts/{channel}`` checks the account with the provider (Twilio: the account
is fetched with its SID and token and must be active; SMTP: connect, EHLO, TLS, login) and
stores it with its secret encrypted by ``MEDREMIND_CREDENTIALS_KEY``; a refusal is a 422 naming
the field. The secret is write-only: ``GET`` shows a masked hint. ``DELETE`` returns the channel
to the service's default sender. The back end is :mod:`medremind.provider_accounts`, shared with
the dashboard's admin path (:mod:`medremind.web.clinic_admin`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from fastapi.responses import Response
from pydantic import BaseModel, Field

from core.credentials import CredentialsKeyMissing
from medremind.provider_accounts import delete_account, list_accounts, save_account
from medremind.web.api_v1.common import AdminOrg, State, api_actor
from medremind.web.api_v1.models import BODY_ERRORS, NOT_FOUND, DataList, RequestModel
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import ApiError, NotFound, ValidationFailed
from platforms.provider_accounts import AccountProblem

router = new_router("provider accounts", admin=True)

AccountChannel = Literal["sms", "whatsapp", "email", "telegram"]
ChannelPath = Annotated[AccountChannel, Path(description="sms, whatsapp or email")]
_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "MEDREMIND_CREDENTIALS_KEY is not set on the server: nothing is stored"}
}
_Text = Annotated[str, Field(max_length=500)]


class ProviderAccountFields(RequestModel):
    """The account's fields; which ones a channel takes is checked per channel (422 naming it).

    SMS: account_sid, auth_token, and from_number and/or messaging_service_sid. WhatsApp:
    account_sid, auth_token, from_number, content_sids (kind -> approved Content SID). E-mail:
    host, port, security (starttls, tls, none), username and password (together), from_address.
    Telegram: token (the clinic's own bot, from BotFather; checked with getMe; its webhook is set
    to /telegram/webhook/<bot id>); the clinic's new patients are enrolled on it.
    """

    account_sid: _Text | None = Field(None, description="Twilio account SID (AC...)")
    auth_token: _Text | None = Field(None, description="Twilio auth token; write-only")
    from_number: _Text | None = Field(None, description="Sender number, E.164; inbound routing")
    messaging_service_sid: _Text | None = Field(None, description="Twilio messaging service MG...")
    content_sids: dict[str, _Text] | None = Field(
        None, description="WhatsApp templates for sends outside the 24-hour window"
    )
    host: _Text | None = Field(None, description="SMTP server")
    port: int | None = Field(None, ge=1, le=65535, description="SMTP port (587, 465)")
    security: Literal["starttls", "tls", "none"] | None = None
    username: _Text | None = None
    password: _Text | None = Field(None, description="SMTP password; write-only")
    from_address: _Text | None = Field(None, description="e.g. Clinic <reminders@clinic.example>")
    token: _Text | None = Field(None, description="Telegram bot token (BotFather); write-only")


class ProviderAccount(BaseModel):
    id: str
    channel: AccountChannel
    config: dict[str, Any] = Field(description="What is not secret (sender, account SID, host...)")
    secret_hint: str = Field(description="The stored secret masked, e.g. ****3f9a")
    inbound_number: str | None = Field(None, description="Where Twilio webhooks route by 'To'")
    updated_by: str
    validated_at: datetime
    updated_at: datetime


@router.get(
    "/provider-accounts",
    response_model=DataList[ProviderAccount],
    summary="The clinic's own provider accounts (secrets masked)",
    operation_id="listProviderAccounts",
)
async def list_provider_accounts(org_id: AdminOrg, state: State) -> Any:
    """Channels without one here send from the service's default account."""
    return {"data": await list_accounts(state.pool, org_id)}


@router.put(
    "/provider-accounts/{channel}",
    response_model=ProviderAccount,
    summary="Check an account with the provider and store it (secret encrypted)",
    operation_id="putProviderAccount",
    responses={**BODY_ERRORS, **_UNAVAILABLE},
)
async def put_provider_account(
    channel: ChannelPath, body: ProviderAccountFields, org_id: AdminOrg, state: State
) -> Any:
    """Checked with the provider first; a refusal names the field."""
    try:
        view = await save_account(
            state.pool,
            state.settings,
            state.secret_box,
            org_id,
            channel,
            body.model_dump(exclude_none=True),
            actor=api_actor(),
        )
    except AccountProblem as exc:
        raise ValidationFailed(exc.field, exc.reason) from None
    except CredentialsKeyMissing as exc:
        raise ApiError(503, str(exc)) from None
    if state.clinic_senders is not None:  # this process answers from it at once (a clinic bot)
        await state.clinic_senders.refresh()
    return view


@router.delete(
    "/provider-accounts/{channel}",
    status_code=204,
    response_class=Response,
    summary="Send from the service's default account again",
    operation_id="deleteProviderAccount",
    responses=NOT_FOUND,
)
async def delete_provider_account(channel: ChannelPath, org_id: AdminOrg, state: State) -> Response:
    """Removed; the audit log keeps who did it."""
    if not await delete_account(state.pool, org_id, channel, actor=api_actor()):
        raise NotFound("provider account")
    if state.clinic_senders is not None:  # a removed bot is named in no invite from now on
        await state.clinic_senders.refresh()
    return Response(status_code=204)
