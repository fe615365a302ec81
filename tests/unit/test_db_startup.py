"""core.db_startup: which database errors a start-up waits out, which it explains and stops on,
and how long it waits, with an injected clock and sleep (no database, no time)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from core.db_startup import StartupError, StartupWindow, explain, is_unavailable


class FakeTime:
    """A monotonic clock that only the window's sleeps move."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _failing(*errors: BaseException) -> tuple[list[int], Callable[[], Awaitable[str]]]:
    """A step raising ``errors`` one per call, then returning "ready"; and its call count."""
    calls = [0]

    async def step() -> str:
        calls[0] += 1
        if calls[0] <= len(errors):
            raise errors[calls[0] - 1]
        return "ready"

    return calls, step


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(),
        FileNotFoundError(),
        TimeoutError(),
        asyncpg.ConnectionDoesNotExistError("closed in the middle of operation"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CrashShutdownError("crash"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.TooManyConnectionsError("too many"),
        asyncpg.ConnectionFailureError("failure"),
    ],
    ids=type,
)
def test_a_restarting_server_is_waited_for(error: BaseException) -> None:
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.InvalidPasswordError("x"),
        asyncpg.InvalidAuthorizationSpecificationError("x"),
        asyncpg.UndefinedTableError("x"),
        asyncpg.ProtocolViolationError("not PostgreSQL"),
        asyncpg.QueryCanceledError("statement timeout"),
        asyncpg.InterfaceError("pool is closing"),
        ValueError("a bug"),
    ],
    ids=type,
)
def test_anything_else_is_not(error: BaseException) -> None:
    assert not is_unavailable(error)


@pytest.mark.parametrize(
    ("error", "connecting", "says"),
    [
        (asyncpg.InvalidPasswordError("SERVER TEXT"), True, "check the password in DATABASE_URL"),
        (asyncpg.InvalidAuthorizationSpecificationError("SERVER TEXT"), True, "check the user in"),
        (asyncpg.InvalidCatalogNameError("SERVER TEXT"), True, "does not exist"),
        (
            asyncpg.InvalidParameterValueError("SERVER TEXT"),
            True,
            "MEDREMIND_DB_ROLE='medremind_app'",
        ),
        (
            asyncpg.InsufficientPrivilegeError("SERVER TEXT"),
            True,
            "MEDREMIND_DB_ROLE='medremind_app'",
        ),
        (asyncpg.InsufficientPrivilegeError("SERVER TEXT"), False, "may not read"),
        (asyncpg.UndefinedTableError("SERVER TEXT"), False, "run `medremind migrate`"),
        (asyncpg.UndefinedColumnError("SERVER TEXT"), False, "run `medremind migrate`"),
        (asyncpg.UndefinedFunctionError("SERVER TEXT"), False, "run `medremind migrate`"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_a_permanent_error_is_explained(error: Exception, connecting: bool, says: str) -> None:
    problem = explain(error, role="medremind_app", connecting=connecting)
    assert problem is not None and says in problem
    assert type(error).__name__ in problem
    assert "SERVER TEXT" not in problem  # it may name the host, the user or the database


def test_an_unknown_error_is_not_explained() -> None:
    assert explain(asyncpg.DataError("x"), role="r", connecting=False) is None
    assert explain(ValueError("x"), role="r", connecting=False) is None


async def test_a_step_is_tried_again_with_backoff_until_it_succeeds() -> None:
    time = FakeTime()
    window = StartupWindow(60, role="r", clock=time.clock, sleep=time.sleep)
    errors = [asyncpg.CannotConnectNowError("x") for _ in range(6)]
    calls, step = _failing(*errors)
    assert await window.run(step, what="step", connecting=False) == "ready"
    assert calls == [7]
    assert time.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


async def test_the_budget_is_shared_by_the_steps_and_a_success_resets_the_backoff() -> None:
    time = FakeTime()
    window = StartupWindow(10, role="r", clock=time.clock, sleep=time.sleep)
    _, opening = _failing(OSError(), OSError(), OSError())  # 0.5 + 1 + 2 s
    await window.run(opening, what="opening", connecting=True)
    _, loading = _failing(*(asyncpg.AdminShutdownError("x") for _ in range(10)))
    with pytest.raises(StartupError) as gave_up:
        await window.run(loading, what="loading", connecting=False)
    # 3.5 s spent opening; loading waits 0.5, 1, 2 and the 3 s left, then gives up.
    assert time.sleeps == [0.5, 1.0, 2.0, 0.5, 1.0, 2.0, 3.0]
    assert "10 s; last error AdminShutdownError while loading" in str(gave_up.value)
    assert "MEDREMIND_DB_STARTUP_WAIT_SECONDS" in str(gave_up.value)


async def test_a_permanent_error_stops_at_once() -> None:
    time = FakeTime()
    window = StartupWindow(60, role="r", clock=time.clock, sleep=time.sleep)
    calls, step = _failing(asyncpg.UndefinedTableError("relation does not exist"))
    with pytest.raises(StartupError, match="run `medremind migrate`"):
        await window.run(step, what="loading", connecting=False)
    assert calls == [1] and time.sleeps == []


async def test_an_unknown_error_is_raised_as_it_is() -> None:
    time = FakeTime()
    window = StartupWindow(60, role="r", clock=time.clock, sleep=time.sleep)
    calls, step = _failing(ValueError("a bug"))
    with pytest.raises(ValueError, match="a bug"):
        await window.run(step, what="loading", connecting=False)
    assert calls == [1] and time.sleeps == []


async def test_without_a_wait_an_unavailable_server_fails_at_once_with_its_own_error() -> None:
    time = FakeTime()
    window = StartupWindow(0, role="r", clock=time.clock, sleep=time.sleep)
    _, step = _failing(ConnectionRefusedError())
    with pytest.raises(ConnectionRefusedError):
        await window.run(step, what="opening", connecting=True)
    assert time.sleeps == []
