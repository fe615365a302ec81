"""Clinician-authored templates (``message_templates``) for the dispatcher.

A claimed row whose ``template`` names a template of the patient's organization is rendered from
that template in the sandbox (:meth:`core.templating.TemplateRenderer.render_custom`); otherwise
the built-in template of that name is used. Lookups cost no round trip per message:
:func:`prefetch_templates` loads every version of the names a claimed batch needs in one query and
keeps them for :data:`CACHE_TTL_SECONDS`, and :func:`scheduler.rendering.render_claim` picks from
that cache synchronously.

The cache hangs off the renderer object (one per worker), so wiring it in needs one line after a
batch is claimed: ``await prefetch_templates(self.pool, self.renderer, claims)``.

Which version is used: the patient's locale, then its language (``es`` for ``es-MX``), then
English, then any other locale in alphabetical order; within a locale the channel being sent on,
then ``default``.

Automatic messages (the planner's rows, which name no template) use the clinic's *automatic*
version of their kind (``message_templates.automatic``) when there is one for the patient's
locale or language, on the channel or ``default`` (:func:`pick_automatic`); otherwise the built-in
text in the patient's language, which is better than the clinic's text in another language.
The whole order is in ``docs/templates.md``.
"""

from __future__ import annotations

import dataclasses
import time
import weakref
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from core.sql import query
from core.templating import FALLBACK_LOCALE, TemplateRenderer
from scheduler.appointment_times import BOTH_TIMES_VARIABLES

CACHE_TTL_SECONDS = 30.0  # an edited template reaches the worker within this
_CACHE_MAX_KEYS = 50_000  # (patient, name) pairs kept; a bulk send to a big clinic fits
DEFAULT_CHANNEL = "default"

# The variables a clinician template may use, by message kind (documented in the API too).
_COMMON = ("patient_name", "clinic_name", "due_at")
_DOSE = ("medicine_name", "dose_text")
# Which dose, where the patient has several active medicines: its number in their /meds list
# (empty otherwise), so a clinic's own text can tell two doses due at once apart without naming
# the medicine (migrations 20260101011200, 20260101012210).
_NUMBER = ("medicine_number",)
# The dose's day ("Wed, March 4") when the reminder goes out on another day than the dose's
# (a snooze past midnight, a nag of yesterday's dose), empty on the dose's own day
# (scheduler.dose_day): "your {{ due_at|time }} dose{% if due_day %} on {{ due_day }}{% endif %}".
_DAY = ("due_day",)
# An appointment's time where the patient's zone shows another wall clock than the clinic's:
# the clinic's city, the patient's time and day (empty otherwise). A template naming any of them
# shows ``starts_at`` at the clinic, as the built-in texts do (scheduler.appointment_times).
_APPOINTMENT = ("starts_at", "location", "clinician_name", *BOTH_TIMES_VARIABLES)
ALLOWED_VARIABLES: dict[str, tuple[str, ...]] = {
    "free_text": _COMMON,
    "system": _COMMON,
    "medication_reminder": _COMMON + _DOSE + _NUMBER + _DAY,
    "dose_followup": _COMMON + _DOSE + _NUMBER + _DAY,
    "refill_reminder": _COMMON + _DOSE,
    "missed_dose_caregiver": (*_COMMON, *_DOSE, *_NUMBER, *_DAY, "caregiver_name"),
    "caregiver_dose_update": (*_COMMON, *_DOSE, *_NUMBER, *_DAY, "caregiver_name", "answered_at"),
    "appointment_confirmation": _COMMON + _APPOINTMENT,
    "appointment_reminder": _COMMON + _APPOINTMENT,
    "appointment_cancelled": _COMMON + _APPOINTMENT,
    "appointment_rescheduled": _COMMON + _APPOINTMENT,
}

# The kinds the service sends on its own; a clinic may mark one version per kind, locale and
# channel as its text for them (``message_templates.automatic``, migration 20260101009700).
AUTOMATIC_KINDS: tuple[str, ...] = (
    "medication_reminder",
    "dose_followup",
    "refill_reminder",
    "missed_dose_caregiver",
    "caregiver_dose_update",
    "appointment_confirmation",
    "appointment_reminder",
    "appointment_rescheduled",
    "appointment_cancelled",
)

# What ``medicine_name`` reads as when the patient did not opt in to naming it: a template that
# says "Time for {{ medicine_name }}" still makes sense and names nothing.
GENERIC_MEDICINE = {"en": "your medicine", "es": "su medicamento"}


def allowed_variables(kind: str) -> tuple[str, ...]:
    """Variable names a template of ``kind`` may use (the common ones for an unknown kind)."""
    return ALLOWED_VARIABLES.get(kind, _COMMON)


@dataclasses.dataclass(frozen=True, slots=True)
class CustomTemplate:
    """One version (locale and channel) of a clinician template."""

    organization_id: UUID
    name: str
    kind: str
    locale: str
    channel: str
    body: str
    subject: str | None = None

    @property
    def label(self) -> str:
        """How errors name it: ``'checkup' (es, sms)``; the body never appears."""
        return f"template {self.name!r} ({self.locale}, {self.channel})"


class NoVersionForChannel(LookupError):
    """The organization has the template, but no version for this channel or ``default``."""


def pick_version(
    versions: Sequence[CustomTemplate], locale: str, channel: str
) -> CustomTemplate | None:
    """The best version for ``locale`` and ``channel`` (see the module docstring), or None."""
    language = locale.replace("-", "_").split("_")[0].lower()
    by_key = {(v.locale, v.channel): v for v in versions}
    others = sorted({v.locale for v in versions})
    for loc in dict.fromkeys((locale, language, FALLBACK_LOCALE, *others)):
        for chan in (str(channel), DEFAULT_CHANNEL):
            found = by_key.get((loc, chan))
            if found is not None:
                return found
    return None


def pick_automatic(
    versions: Sequence[CustomTemplate], locale: str, channel: str
) -> CustomTemplate | None:
    """The clinic's automatic version for ``locale`` and ``channel``, or None (built-in text).

    Only the patient's locale and its language qualify: a patient is better served by the
    built-in text in their language than by the clinic's text in another.
    """
    if not versions:  # most clinics have none: every reminder asks (issue 20)
        return None
    language = locale.replace("-", "_").split("_")[0].lower()
    by_key = {(v.locale, v.channel): v for v in versions}
    for loc in dict.fromkeys((locale, language)):
        for chan in (str(channel), DEFAULT_CHANNEL):
            found = by_key.get((loc, chan))
            if found is not None:
                return found
    return None


def _record(row: Any) -> CustomTemplate:
    return CustomTemplate(
        organization_id=row["organization_id"],
        name=row["name"],
        kind=row["kind"],
        locale=row["locale"],
        channel=row["channel"],
        body=row["body"],
        subject=row["subject"],
    )


class TemplateCache:
    """Template versions by (patient, name), loaded per batch, kept for a short TTL.

    An empty entry is cached too: "this organization has no template of that name" is as useful
    as a hit (the built-in template is used).
    """

    def __init__(self, ttl_seconds: float = CACHE_TTL_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[tuple[UUID, str], tuple[float, tuple[CustomTemplate, ...]]] = {}
        # The clinic's automatic versions by (clinic, kind): another key space than names. By
        # clinic, not patient: an 08:00 burst of one clinic's reminders asks once per TTL, not
        # once per batch of patients never seen (issue 20).
        self._automatic: dict[tuple[UUID, str], tuple[float, tuple[CustomTemplate, ...]]] = {}
        self.queries = 0  # round trips made (tests and metrics)

    def versions(self, patient_id: UUID, name: str) -> tuple[CustomTemplate, ...] | None:
        """Cached versions, or None when this pair was never loaded (or expired)."""
        entry = self._entries.get((patient_id, name))
        if entry is None or time.monotonic() - entry[0] > self.ttl_seconds:
            return None
        return entry[1]

    def lookup(self, patient_id: UUID, name: str) -> tuple[CustomTemplate, ...] | None:
        """Loaded versions whatever their age (a send waiting on a rate limit may outlive the
        TTL; it uses what its batch loaded), or None when never loaded."""
        entry = self._entries.get((patient_id, name))
        return None if entry is None else entry[1]

    def automatic(self, organization_id: UUID, kind: str) -> tuple[CustomTemplate, ...] | None:
        """The clinic's automatic versions of ``kind`` as loaded (None: never)."""
        entry = self._automatic.get((organization_id, kind))
        return None if entry is None else entry[1]

    def put_automatic(
        self, organization_id: UUID, kind: str, versions: Sequence[CustomTemplate]
    ) -> None:
        """Hold ``versions`` as the clinic's automatic versions of ``kind`` (a preview supplies
        them instead of loading them)."""
        self._automatic[(organization_id, kind)] = (time.monotonic(), tuple(versions))

    async def prefetch(self, pool: asyncpg.Pool, claims: Iterable[Any]) -> None:
        """Load what ``claims`` need and the cache lacks: at most one query for the templates
        they name, one for the automatic versions of the kinds sent without a template."""
        claims = list(claims)
        await self._prefetch_named(pool, claims)
        await self._prefetch_automatic(pool, claims)

    async def _prefetch_automatic(self, pool: asyncpg.Pool, claims: Sequence[Any]) -> None:
        now = time.monotonic()
        # A patient of no clinic has no automatic versions: nothing to ask.
        wanted = {
            (c.organization_id, c.kind)
            for c in claims
            if c.template is None
            and c.kind in AUTOMATIC_KINDS
            and c.organization_id is not None
            and not self._fresh(self._automatic.get((c.organization_id, c.kind)), now)
        }
        if not wanted:
            return
        clinics = sorted({o for o, _ in wanted}, key=str)
        kinds = sorted({k for _, k in wanted})
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                query("templates", "automatic_templates_for_clinics"), clinics, kinds
            )
        self.queries += 1
        found: dict[tuple[UUID, str], list[CustomTemplate]] = {key: [] for key in wanted}
        for row in rows:
            key = (row["organization_id"], row["kind"])
            if key in found:
                found[key].append(_record(row))
        if len(self._automatic) + len(found) > _CACHE_MAX_KEYS:
            self._automatic = self._evicted(self._automatic, now)
        for key, versions in found.items():
            self._automatic[key] = (now, tuple(versions))

    def _fresh(self, entry: tuple[float, Any] | None, now: float) -> bool:
        return entry is not None and now - entry[0] <= self.ttl_seconds

    async def _prefetch_named(self, pool: asyncpg.Pool, claims: Sequence[Any]) -> None:
        wanted = {
            (c.patient_id, c.template)
            for c in claims
            if c.template is not None and self.versions(c.patient_id, c.template) is None
        }
        if not wanted:
            return
        patients = sorted({p for p, _ in wanted}, key=str)
        names = sorted({n for _, n in wanted})
        async with pool.acquire() as conn:
            rows = await conn.fetch(query("templates", "templates_for_patients"), patients, names)
        self.queries += 1
        found: dict[tuple[UUID, str], list[CustomTemplate]] = {key: [] for key in wanted}
        for row in rows:
            key = (row["patient_id"], row["name"])
            if key in found:
                found[key].append(_record(row))
        now = time.monotonic()
        if len(self._entries) + len(found) > _CACHE_MAX_KEYS:
            self._entries = self._evicted(self._entries, now)
        for key, versions in found.items():
            self._entries[key] = (now, tuple(versions))

    def _evicted(
        self, entries: dict[tuple[UUID, str], tuple[float, tuple[CustomTemplate, ...]]], now: float
    ) -> dict[tuple[UUID, str], tuple[float, tuple[CustomTemplate, ...]]]:
        """``entries`` without the expired ones, then without the oldest, down to half the cap.

        The newest entries belong to batches still in flight (a send may wait on a rate limit
        after its batch was loaded), so they are the last to go.
        """
        fresh = [(k, e) for k, e in entries.items() if now - e[0] <= self.ttl_seconds]
        if len(fresh) > _CACHE_MAX_KEYS // 2:
            fresh.sort(key=lambda item: item[1][0])
            fresh = fresh[-(_CACHE_MAX_KEYS // 2) :]
        return dict(fresh)


_CACHES: weakref.WeakKeyDictionary[TemplateRenderer, TemplateCache] = weakref.WeakKeyDictionary()


def cache_for(renderer: TemplateRenderer) -> TemplateCache:
    """The template cache of ``renderer`` (one per worker's renderer, created on first use)."""
    cache = _CACHES.get(renderer)
    if cache is None:
        cache = _CACHES[renderer] = TemplateCache()
    return cache


def cached_cache(renderer: TemplateRenderer | None) -> TemplateCache | None:
    """``renderer``'s cache if a batch was ever prefetched for it, else None (no lookup wired)."""
    return None if renderer is None else _CACHES.get(renderer)


async def prefetch_templates(
    pool: asyncpg.Pool, renderer: TemplateRenderer | None, claims: Sequence[Any]
) -> None:
    """Load the clinician templates ``claims`` name into ``renderer``'s cache (one query at most).

    A batch with neither a ``template`` nor an automatic kind costs nothing. Database errors
    propagate: the rows stay
    leased and come back when the lease expires, rather than being rendered without their
    template.
    """
    if renderer is None or not any(
        c.template is not None or c.kind in AUTOMATIC_KINDS for c in claims
    ):
        return
    await cache_for(renderer).prefetch(pool, claims)


__all__ = [
    "ALLOWED_VARIABLES",
    "AUTOMATIC_KINDS",
    "CACHE_TTL_SECONDS",
    "GENERIC_MEDICINE",
    "CustomTemplate",
    "NoVersionForChannel",
    "TemplateCache",
    "allowed_variables",
    "cache_for",
    "cached_cache",
    "pick_automatic",
    "pick_version",
    "prefetch_templates",
]
