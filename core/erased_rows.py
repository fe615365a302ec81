"""The database's refusal of a row written for a patient being erased, as every layer reads it.

Every table that points at a patient refuses a row written (or moved) for one whose erasure
committed while the write waited for their row, and the patient's own row refuses to be given
back what the erasure took (migrations 20260101018950 and 20260101019000): a check violation
named ``<table>_patient_erased``. Nothing was written; the patient is gone. The API answers it
as a 422, the bot runs its turn again against what the erasure left, the planner leaves the
patient out.
"""

from __future__ import annotations

import asyncpg

SUFFIX = "_patient_erased"


def is_erased_refusal(error: BaseException) -> bool:
    """Whether ``error`` is the database refusing a row of a patient being erased."""
    constraint = getattr(error, "constraint_name", None) or ""
    return isinstance(error, asyncpg.CheckViolationError) and constraint.endswith(SUFFIX)
