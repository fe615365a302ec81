"""One typed settings object, read from the environment once.

A bad value fails fast with :class:`SettingsError`, whose message names the variable and says what a
valid value looks like. Secrets are ``SecretStr`` so they never print by accident.
"""

from __future__ import annotations

import json
import os
import re
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.locales import LOCALES

# What a valid value looks like, per variable, for error messages.
_EXAMPLES: dict[str, str] = {
    "PORT": "a TCP port number such as 8000",
    "WEB_CONCURRENCY": "a number of web processes from 1 to 64, such as 2",
    "DATABASE_URL": "postgresql://user:password@host:5432/dbname",
    "PUBLIC_BASE_URL": "https://medremind.example.org (no trailing path)",
    "MEDREMIND_DEFAULT_TIMEZONE": "an IANA timezone such as Europe/Berlin",
    "MEDREMIND_QUIET_HOURS_START": "a time of day such as 21:00",
    "MEDREMIND_QUIET_HOURS_END": "a time of day such as 08:00",
    "SMTP_PORT": "a TCP port number such as 587",
    "SMTP_STARTTLS": "true or false",
    "TELEGRAM_API_BASE_URL": "https://api.telegram.org",
    "TWILIO_API_BASE_URL": "https://api.twilio.com",
    "TWILIO_CONTENT_API_BASE_URL": "https://content.twilio.com",
    "WHATSAPP_QUICK_REPLIES": "true or false",
    "MEDREMIND_LOG_LEVEL": "DEBUG, INFO, WARNING or ERROR",
    "TWILIO_WHATSAPP_CONTENT_SIDS": 'a JSON object such as {"medication_reminder": "HX..."}',
    "VAPID_SUBJECT": "mailto:ops@clinic.example or https://clinic.example",
    "MEDREMIND_OUTBOX_ENABLED": "true or false",
    "MEDREMIND_CREDENTIALS_KEY": "Fernet keys, newest first, comma separated "
    "(make one with `medremind credentials-key`)",
    "MEDREMIND_WORKER_METRICS_PORT": "a TCP port number such as 9091",
}
# Variables counted in seconds whose names do not say so.
_SECONDS = ("MEDREMIND_SHUTDOWN_GRACE", "MEDREMIND_PLANNER_INTERVAL")


class SettingsError(Exception):
    """A configuration variable is missing or malformed; the message names it."""


_BOT_TOKEN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "medremind"


class Settings(BaseSettings):
    """Every knob of the service. Field aliases are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", populate_by_name=True, frozen=True
    )

    database_url: SecretStr | None = Field(default=None, alias="DATABASE_URL")
    # Role the processes switch to after connecting (least privilege, never service_role).
    # Empty when DATABASE_URL already logs in as that role (e.g. behind a transaction pooler).
    db_role: str = Field(default="medremind_app", alias="MEDREMIND_DB_ROLE")
    db_pool_min: int = Field(default=1, alias="MEDREMIND_DB_POOL_MIN", ge=0)
    db_pool_max: int = Field(default=10, alias="MEDREMIND_DB_POOL_MAX", ge=1)
    # How long `medremind web` and `medremind worker` keep trying to reach the database when they
    # start (a restart or fail-over of PostgreSQL); 0: fail at once.
    db_startup_wait_seconds: float = Field(
        default=60.0, alias="MEDREMIND_DB_STARTUP_WAIT_SECONDS", ge=0, le=3600
    )
    data_dir: Path = Field(default_factory=_default_data_dir, alias="MEDREMIND_DATA_DIR")
    port: int = Field(default=8000, alias="PORT", ge=1, le=65535)
    # Web processes sharing $PORT (Heroku's Python buildpack sets it from the dyno's size).
    web_concurrency: int = Field(default=1, alias="WEB_CONCURRENCY", ge=1, le=64)
    public_base_url: str | None = Field(default=None, alias="PUBLIC_BASE_URL")
    # Set by ``medremind dev`` alone, to its loopback address when PUBLIC_BASE_URL is unset: the
    # patient app's links (/app, e-mails) point there, while Telegram stays on long polling
    # (PUBLIC_BASE_URL would switch it to a webhook no bot can reach on loopback).
    local_app_base_url: str | None = Field(default=None, alias="MEDREMIND_LOCAL_APP_BASE_URL")
    log_level: str = Field(default="INFO", alias="MEDREMIND_LOG_LEVEL")

    default_timezone: str = Field(default="UTC", alias="MEDREMIND_DEFAULT_TIMEZONE")
    default_locale: str = Field(default="en", alias="MEDREMIND_DEFAULT_LOCALE")
    quiet_hours_start: time = Field(default=time(21, 0), alias="MEDREMIND_QUIET_HOURS_START")
    quiet_hours_end: time = Field(default=time(8, 0), alias="MEDREMIND_QUIET_HOURS_END")
    outbox_dir: Path | None = Field(default=None, alias="MEDREMIND_OUTBOX_DIR")
    # Channels without credentials write files to the outbox instead of reaching patients: on by
    # default only in ``medremind dev``; elsewhere such a channel has no sender unless this is true.
    outbox_enabled: bool | None = Field(default=None, alias="MEDREMIND_OUTBOX_ENABLED")

    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: SecretStr | None = Field(default=None, alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org", alias="TELEGRAM_API_BASE_URL"
    )
    # More service-wide bots beside TELEGRAM_BOT_TOKEN, comma separated: new patients are sharded
    # across all of them in proportion to each bot's rate (platforms/telegram_bots.py), each bot
    # its own 30/s; each gets its own webhook, /telegram/webhook/<bot id>.
    telegram_bots: SecretStr | None = Field(default=None, alias="MEDREMIND_TELEGRAM_BOTS")

    twilio_account_sid: str | None = Field(default=None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr | None = Field(default=None, alias="TWILIO_AUTH_TOKEN")
    # While the service's token is rotated: Twilio signs webhooks with the old one until the new
    # one is promoted, and those are verified with this too (medremind/web/twilio_webhooks.py).
    twilio_auth_token_previous: SecretStr | None = Field(
        default=None, alias="TWILIO_AUTH_TOKEN_PREVIOUS"
    )
    twilio_sms_from: str | None = Field(default=None, alias="TWILIO_SMS_FROM")
    twilio_messaging_service_sid: str | None = Field(
        default=None, alias="TWILIO_MESSAGING_SERVICE_SID"
    )
    twilio_whatsapp_from: str | None = Field(default=None, alias="TWILIO_WHATSAPP_FROM")
    twilio_api_base_url: str = Field(default="https://api.twilio.com", alias="TWILIO_API_BASE_URL")
    # JSON object: message kind -> approved WhatsApp Content SID, for sends outside the 24 h window.
    twilio_whatsapp_content_sids: dict[str, str] = Field(
        default_factory=dict, alias="TWILIO_WHATSAPP_CONTENT_SIDS"
    )
    # Options inside the WhatsApp 24-hour window as tappable quick-reply buttons (Content API);
    # false sends them as numbered text. platforms/whatsapp_content.py creates the contents.
    whatsapp_quick_replies: bool = Field(default=True, alias="WHATSAPP_QUICK_REPLIES")
    # Content API host; unset: Twilio's, or TWILIO_API_BASE_URL when that is not Twilio's.
    twilio_content_api_base_url: str | None = Field(
        default=None, alias="TWILIO_CONTENT_API_BASE_URL"
    )
    sms_max_segments: int = Field(default=3, alias="MEDREMIND_SMS_MAX_SEGMENTS", ge=1, le=10)

    smtp_host: str | None = Field(default=None, alias="SMTP_HOST")
    smtp_port: int = Field(default=587, alias="SMTP_PORT", ge=1, le=65535)
    smtp_username: str | None = Field(default=None, alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_from: str | None = Field(default=None, alias="SMTP_FROM")
    smtp_starttls: bool = Field(default=True, alias="SMTP_STARTTLS")
    smtp_use_tls: bool = Field(default=False, alias="SMTP_USE_TLS")
    email_rate_per_second: float = Field(default=5.0, alias="MEDREMIND_EMAIL_RATE", gt=0)
    # Provider caps for the whole fleet of workers (sends a second; see scheduler/fleet_limits,
    # which also keeps any second of the provider's to ceil(rate) requests whatever the jitter).
    telegram_rate_per_second: float = Field(default=30.0, alias="MEDREMIND_TELEGRAM_RATE", gt=0)
    telegram_chat_rate_per_second: float = Field(
        default=1.0, alias="MEDREMIND_TELEGRAM_CHAT_RATE", gt=0
    )
    sms_rate_per_second: float = Field(default=1.0, alias="MEDREMIND_SMS_RATE", gt=0)
    whatsapp_rate_per_second: float = Field(default=10.0, alias="MEDREMIND_WHATSAPP_RATE", gt=0)
    fleet_limits: bool = Field(default=True, alias="MEDREMIND_FLEET_LIMITS")
    retention_days: int = Field(default=365, alias="MEDREMIND_RETENTION_DAYS", ge=0)
    worker_metrics_port: int | None = Field(
        default=None, alias="MEDREMIND_WORKER_METRICS_PORT", ge=1, le=65535
    )
    worker_heartbeat_seconds: float = Field(
        default=10.0, alias="MEDREMIND_WORKER_HEARTBEAT_SECONDS", gt=0, le=300
    )
    # A provider account's circuit breaker (scheduler/breaker.py): consecutive transient failures
    # that open it, and how long it stays open before a probe (doubling up to 5 min, or this).
    breaker_threshold: int = Field(default=5, alias="MEDREMIND_BREAKER_THRESHOLD", ge=1, le=1000)
    breaker_cooldown_seconds: float = Field(
        default=30.0, alias="MEDREMIND_BREAKER_COOLDOWN_SECONDS", gt=0, le=3600
    )
    # A transient failure's retry waits a random time up to this base, doubled after each
    # further failure, at most an hour (scheduler.backoff.DEFAULT_BASE_SECONDS): the worker's
    # retries and the web process's of a bot reply it could not send.
    retry_base_seconds: float = Field(
        default=10.0, alias="MEDREMIND_RETRY_BASE_SECONDS", gt=0, le=3600
    )

    # Web Push (the patient app's notifications): the VAPID key pair's private half (PEM, or
    # base64url of the raw key) and the contact push services may reach us at. `medremind dev`
    # generates a key into the data directory when unset.
    vapid_private_key: SecretStr | None = Field(default=None, alias="VAPID_PRIVATE_KEY")
    vapid_subject: str | None = Field(default=None, alias="VAPID_SUBJECT")

    # Per API key, across every web process; 0 turns the limit off.
    api_rate_per_minute: float = Field(default=600.0, alias="MEDREMIND_API_RATE_LIMIT", ge=0)
    api_rate_burst: int = Field(default=60, alias="MEDREMIND_API_RATE_BURST", ge=1)
    # Priority-0 API messages per clinic per hour (UTC) they go in; more are accepted at the
    # default priority with a warning (medremind/web/api_v1/priority_share.py). Priority 0 goes
    # ahead of every clinic's dose reminders: 100 is about three seconds of one bot at 30/s.
    api_priority_zero_per_hour: int = Field(
        default=100, alias="MEDREMIND_API_PRIORITY_ZERO_PER_HOUR", ge=0, le=100000
    )
    # A clinic's messages (API and dashboard Compose, one patient or a group) per patient created
    # in the last hour and the last 24 hours; past either the create is refused (the API's 429
    # with Retry-After). Published in service_limits, checked by a trigger (migration
    # 20260101018340); a clinic's organizations.caps may set its own. 0 turns a window's off.
    clinic_messages_per_patient_hour: int = Field(
        default=5, alias="MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR", ge=0, le=10000
    )
    clinic_messages_per_patient_day: int = Field(
        default=10, alias="MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_DAY", ge=0, le=10000
    )
    # The patient app's sign-in requests per client address per 15 minutes, across every web
    # process (medremind/web/patient_app/client_rate.py); 0 turns the limit off.
    sign_in_requests_per_client: int = Field(
        default=10, alias="MEDREMIND_SIGN_IN_REQUESTS_PER_CLIENT", ge=0, le=10000
    )
    # Wrong API keys (and dashboard admin tokens) checked per client address per window, in each
    # web process; past it a 429 without a lookup (medremind/web/failed_credentials.py); 0: off.
    auth_failures_per_client: int = Field(
        default=20, alias="MEDREMIND_AUTH_FAILURES_PER_CLIENT", ge=0, le=100000
    )
    auth_failure_window_seconds: float = Field(
        default=900.0, alias="MEDREMIND_AUTH_FAILURE_WINDOW_SECONDS", gt=0, le=86400
    )
    # medremind.web.request_deadline: a request's headers and body must arrive within this.
    request_read_seconds: float = Field(
        default=30.0, alias="MEDREMIND_REQUEST_READ_SECONDS", gt=0, le=3600
    )

    worker_batch_size: int = Field(default=250, alias="MEDREMIND_WORKER_BATCH", ge=1, le=5000)
    worker_concurrency: int = Field(default=64, alias="MEDREMIND_WORKER_CONCURRENCY", ge=1)
    worker_poll_seconds: float = Field(default=5.0, alias="MEDREMIND_WORKER_POLL_SECONDS", gt=0)
    worker_lease_seconds: float = Field(default=60.0, alias="MEDREMIND_LEASE_SECONDS", gt=0)
    # scheduler.dispatch_config.DEFAULT_READ_AHEAD; ~3 KB each while that many fall due at once.
    worker_read_ahead: int = Field(
        default=100_000, alias="MEDREMIND_WORKER_READ_AHEAD", ge=0, le=2_000_000
    )
    # scheduler.dispatch_config.DEFAULT_CLAIM_AHEAD_SECONDS: how early a forecast peak's rows
    # are claimed (held until their time); 0: never before due.
    worker_claim_ahead_seconds: float = Field(
        default=10.0, alias="MEDREMIND_WORKER_CLAIM_AHEAD_SECONDS", ge=0, le=30
    )
    shutdown_grace_seconds: float = Field(default=25.0, alias="MEDREMIND_SHUTDOWN_GRACE", ge=0)
    planner_horizon_hours: int = Field(default=48, alias="MEDREMIND_PLANNER_HORIZON_HOURS", ge=1)
    planner_interval_seconds: float = Field(default=60.0, alias="MEDREMIND_PLANNER_INTERVAL", gt=0)
    # Outgoing webhooks (scheduler/webhook_sender.py): seconds between looks for due deliveries,
    # the waits before each retry (Standard Webhooks' schedule by default: 5 s, 5 min, 30 min,
    # 2 h, 5 h, 10 h, 10 h), and whether endpoints on private or loopback addresses are allowed.
    webhook_poll_seconds: float = Field(default=2.0, alias="MEDREMIND_WEBHOOK_POLL_SECONDS", gt=0)
    webhook_retry_seconds: str = Field(
        default="5,300,1800,7200,18000,36000,36000", alias="MEDREMIND_WEBHOOK_RETRY_SECONDS"
    )
    webhook_allow_private: bool = Field(default=False, alias="MEDREMIND_WEBHOOK_ALLOW_PRIVATE")
    # Secrets stored at rest (clinics' provider accounts, outgoing-webhook signing secrets) are
    # encrypted with these Fernet keys: comma separated, the first encrypts, any of them decrypts,
    # so a new key goes first and the old one stays until `medremind rotate-credentials` ran.
    credentials_key: SecretStr | None = Field(default=None, alias="MEDREMIND_CREDENTIALS_KEY")

    @field_validator("db_pool_max")
    @classmethod
    def _pool_holds_its_minimum(cls, value: int, info: ValidationInfo) -> int:
        # asyncpg refused it at start-up with a traceback ("min_size is greater than max_size").
        least = info.data.get("db_pool_min")
        if least is not None and value < least:
            raise ValueError(
                f"is less than MEDREMIND_DB_POOL_MIN ({least}); raise it or lower that"
            )
        return value

    @field_validator("default_locale")
    @classmethod
    def _spoken_locale(cls, value: str) -> str:
        # It was read and never used: new patients on SMS and WhatsApp got English whatever it said.
        if value not in LOCALES:
            raise ValueError(
                f"{value!r} is not a language the bot speaks; use one of {', '.join(LOCALES)}"
            )
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("twilio_whatsapp_content_sids", mode="before")
    @classmethod
    def _json_mapping(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError("not a JSON object") from exc
        return value

    @field_validator("telegram_bots")
    @classmethod
    def _bot_tokens(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            for position, token in enumerate(value.get_secret_value().split(","), start=1):
                if not _BOT_TOKEN.match(token.strip()):
                    # The token itself never reaches a message: only its position.
                    raise ValueError(
                        f"token {position} is not a bot token (<bot id>:<secret>, from BotFather)"
                    )
        return value

    @property
    def telegram_extra_tokens(self) -> tuple[str, ...]:
        """The tokens of MEDREMIND_TELEGRAM_BOTS, in order (the default bot's not among them)."""
        if self.telegram_bots is None:
            return ()
        tokens = (t.strip() for t in self.telegram_bots.get_secret_value().split(","))
        return tuple(t for t in tokens if t)

    @field_validator("vapid_subject")
    @classmethod
    def _vapid_subject(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("mailto:", "https://")):
            raise ValueError(f"{value!r} is neither a mailto: nor an https:// URL")
        return value

    @field_validator("credentials_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from core.credentials import parse_keys

            parse_keys(value.get_secret_value())  # ValueError naming the key's position only
        return value

    @field_validator("webhook_retry_seconds")
    @classmethod
    def _retry_schedule(cls, value: str) -> str:
        try:
            waits = [float(v) for v in value.split(",")]
        except ValueError:
            waits = []
        if not 1 <= len(waits) <= 20 or any(not 0 < w <= 86400 for w in waits):
            raise ValueError(
                "give 1 to 20 comma-separated waits in seconds (each up to 86400), e.g. 5,300,1800"
            )
        return value

    @property
    def webhook_retry_schedule(self) -> tuple[float, ...]:
        """The waits before each retry of an outgoing webhook, in seconds."""
        return tuple(float(v) for v in self.webhook_retry_seconds.split(","))

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"unknown log level {value!r}")
        return upper

    @field_validator(
        "public_base_url",
        "telegram_api_base_url",
        "twilio_api_base_url",
        "twilio_content_api_base_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None if value == "" else value
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @property
    def app_base_url(self) -> str | None:
        """Where patients open the app: ``PUBLIC_BASE_URL``, else ``medremind dev``'s loopback
        address (``local_app_base_url``); None when neither is set (no app links)."""
        return self.public_base_url or self.local_app_base_url

    @property
    def embedded(self) -> bool:
        """True when no ``DATABASE_URL`` is set and the embedded PostgreSQL is used."""
        return self.database_url is None

    @property
    def twilio_content_base_url(self) -> str:
        """Where the Content API is reached (``content.twilio.com`` is its own host).

        A ``TWILIO_API_BASE_URL`` other than Twilio's (a proxy, the loopback fake) carries the
        Content API too, so a test or a proxy never sends part of the traffic to Twilio itself.
        """
        if self.twilio_content_api_base_url:
            return self.twilio_content_api_base_url
        if self.twilio_api_base_url == "https://api.twilio.com":
            return "https://content.twilio.com"
        return self.twilio_api_base_url

    @property
    def vapid_key_path(self) -> Path:
        """Where ``medremind dev`` keeps the VAPID key it generated when none was set."""
        return self.data_dir / "vapid_private_key"

    @property
    def outbox_on(self) -> bool:
        """Whether channels without credentials write to the outbox folder: only when
        ``MEDREMIND_OUTBOX_ENABLED`` is true (``medremind dev`` sets it unless it is false)."""
        return self.outbox_enabled is True

    @property
    def outbox_path(self) -> Path:
        """Folder where messages for unconfigured channels are written as files."""
        return self.outbox_dir or (self.data_dir / "outbox")


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise :class:`SettingsError` naming the bad variable."""
    env = dict(os.environ if environ is None else environ)
    # Empty strings mean "unset", as Heroku config and shells often produce them.
    values = {k: v for k, v in env.items() if v != ""}
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _example(name: str) -> str:
    """What a valid value of ``name`` looks like: its entry in :data:`_EXAMPLES`, else, for a
    number or a switch, its kind and default (pydantic's "Input should be a valid number" named
    no value to type instead)."""
    if name in _EXAMPLES:
        return _EXAMPLES[name]
    field = next((f for f in Settings.model_fields.values() if f.alias == name), None)
    if field is None:
        return ""
    kinds = (field.annotation, *get_args(field.annotation))
    unit = " of seconds" if name.endswith("_SECONDS") or name in _SECONDS else ""
    if bool in kinds:
        return "true or false"
    if int in kinds and isinstance(field.default, int):
        return f"a whole number{unit} such as {field.default}"
    if float in kinds and isinstance(field.default, float):
        return f"a number{unit} such as {field.default:g}"
    return ""


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        example = _example(name)
        hint = f"; expected {example}" if example else ""
        lines.append(f"{name}: {error['msg']}{hint}")
    return "invalid configuration: " + "; ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
