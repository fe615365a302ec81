"""The test modules' assertion rewriting done once, on the xdist controller, before the workers
start: otherwise each worker rewrites every test module itself when it collects them (pytest's
import hook: parse, rewrite the asserts, compile), all at once, because a rewritten module is
cached only once written (``<pycache>/<module>.cpython-311-pytest-<version>.pyc``, under
``PYTHONPYCACHEPREFIX`` when set, as in .ci/run). Measured on the 2-core CI host: 12.5 CPU-s of
rewriting in each collecting process, so ~50 CPU-s for ``make test``'s four workers, ~12.5 here.

The workers read these files through pytest's own check of each (a hash of the source), so a stale
or missing one is rewritten by the worker as before: this only moves work, never changes what is
run. It uses pytest's private rewrite functions (``_pytest.assertion.rewrite``); when they move in a
pytest release, it does nothing and the workers rewrite as they used to.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def rewrite_test_modules_ahead(config: pytest.Config) -> int:
    """On the controller of a run on two or more xdist workers (from ``pytest_configure``): write
    the rewritten bytecode of every test module and conftest.py under the run's paths that has none
    yet. Returns how many were written (0 elsewhere, or when pytest's functions moved)."""
    if hasattr(config, "workerinput") or (config.getoption("numprocesses", None) or 0) < 2:
        return 0
    if sys.dont_write_bytecode:  # the workers would write none either: respect it
        return 0
    try:
        from _pytest.assertion.rewrite import (
            PYC_TAIL,
            _read_pyc,
            _rewrite_test,
            _write_pyc,
            assertstate_key,
            get_cache_dir,
        )
    except ImportError:
        return 0
    state = config.stash.get(assertstate_key, None)
    if state is None or state.mode != "rewrite":  # --assert=plain: nothing is rewritten
        return 0
    patterns = [*config.getini("python_files"), "conftest.py"]
    written = 0
    for module in _modules(config, patterns):
        cache_dir = get_cache_dir(module)
        pyc = cache_dir / (module.name[:-3] + PYC_TAIL)
        if _read_pyc(module, pyc) is not None:
            continue
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            source_hash, code = _rewrite_test(module, config)
        except (OSError, SyntaxError):
            continue  # the worker's own import reports it, as without this
        if _write_pyc(state, code, source_hash, pyc):
            written += 1
    return written


def _modules(config: pytest.Config, patterns: list[str]) -> Iterator[Path]:
    """The ``.py`` files the run's paths (arguments, else ``testpaths``) name or hold that match
    ``patterns``, outside ``norecursedirs``, as absolute paths (the workers import them by
    those)."""
    skipped = list(config.getini("norecursedirs"))
    seen: set[Path] = set()
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::", 1)[0]).absolute()
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file in seen or not file.is_file():
                continue
            folders = file.relative_to(path).parts[:-1] if path.is_dir() else ()
            if any(fnmatch.fnmatch(f, pattern) for f in folders for pattern in skipped):
                continue
            if any(fnmatch.fnmatch(file.name, pattern) for pattern in patterns):
                seen.add(file)
                yield file
