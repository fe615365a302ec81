"""How ``medremind backup``/``restore`` hand a database URL to pg_dump and pg_restore."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from medremind.backup import default_backup_path, libpq_target


@pytest.mark.parametrize(
    ("url", "dsn", "env"),
    [
        (
            "postgresql://app:s%3Acret@db.example.org:5432/medremind",
            "postgresql://app@db.example.org:5432/medremind",
            {"PGPASSWORD": "s:cret"},
        ),
        (
            "postgresql://postgres.ref:pw@pooler.supabase.com:6543/postgres?pgbouncer=true",
            "postgresql://postgres.ref@pooler.supabase.com:6543/postgres",
            {"PGPASSWORD": "pw"},
        ),
        (  # the embedded server's Unix-socket URL passes through
            "postgresql://postgres:@/medremind?host=/tmp/pg.abc",
            "postgresql://postgres:@/medremind?host=/tmp/pg.abc",
            {},
        ),
    ],
)
def test_the_password_goes_to_the_environment_never_the_command_line(
    url: str, dsn: str, env: dict[str, str]
) -> None:
    assert libpq_target(url) == (dsn, env)


def test_default_file_name_is_the_utc_time() -> None:
    moment = datetime(2026, 12, 3, 7, 5, 9, tzinfo=UTC)
    assert default_backup_path(moment) == Path("medremind-20261203T070509Z.dump")
