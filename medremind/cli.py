"""``medremind migrate | web | worker | dev | check | apikey create|list|revoke | backup | restore |
credentials-key | rotate-credentials``.

Every command reads the settings once and fails fast, naming the bad variable, with exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from core.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medremind", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations (Procfile release)")
    sub.add_parser("web", help="serve webhooks, the API, health and metrics on $PORT")
    sub.add_parser("worker", help="plan reminders and dispatch due messages")
    dev = sub.add_parser("dev", help="web, worker and a console chat in one process")
    dev.add_argument("--no-console", action="store_true", help="do not read chat from stdin")
    sub.add_parser("check", help="print the configuration and whether the database is ready")
    apikey = sub.add_parser("apikey", help="manage API keys of organizations")
    apikey_sub = apikey.add_subparsers(dest="apikey_command", required=True)
    create = apikey_sub.add_parser("create", help="create a key (shown once)")
    create.add_argument("--org", required=True, help="organization id or exact name")
    create.add_argument("--name", default="default", help="a label for the key")
    create.add_argument(
        "--role",
        choices=("admin", "clinician"),
        default="admin",
        help="admin: everything; clinician: not settings, templates, webhooks, provider accounts",
    )
    listing = apikey_sub.add_parser("list", help="list the keys (never their secrets)")
    listing.add_argument("--org", help="only this organization's (id or exact name)")
    revoke = apikey_sub.add_parser("revoke", help="revoke a key: refused from the next request")
    revoke.add_argument("key", help="its prefix as listed (mr_<prefix>_...), or the whole key")
    sub.add_parser(
        "credentials-key", help="print a new key for MEDREMIND_CREDENTIALS_KEY (nothing stored)"
    )
    sub.add_parser(
        "rotate-credentials",
        help="re-encrypt every stored secret with the first key of MEDREMIND_CREDENTIALS_KEY",
    )
    backup = sub.add_parser("backup", help="dump the database to FILE (pg_dump, while running)")
    backup.add_argument("file", nargs="?", help="default: medremind-<UTC time>.dump here")
    restore = sub.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("file", help="a file written by medremind backup")
    restore.add_argument(
        "--force", action="store_true", help="replace what the backup holds in a non-empty database"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``medremind`` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"medremind: {exc}", file=sys.stderr)
        return 2
    from core.logs import configure_logging

    configure_logging(settings.log_level)
    return _dispatch(args, settings)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        from medremind.commands import run_migrate

        return asyncio.run(run_migrate(settings))
    if args.command == "check":
        from medremind.check import run_check

        return asyncio.run(run_check(settings))
    if args.command == "apikey":
        from medremind.commands import run_apikey_create, run_apikey_list, run_apikey_revoke

        if args.apikey_command == "list":
            return asyncio.run(run_apikey_list(settings, args.org))
        if args.apikey_command == "revoke":
            return asyncio.run(run_apikey_revoke(settings, args.key))
        return asyncio.run(run_apikey_create(settings, args.org, args.name, args.role))
    if args.command == "credentials-key":
        from core.credentials import new_key

        print(new_key())
        return 0
    if args.command == "rotate-credentials":
        from medremind.commands import run_rotate_credentials

        return asyncio.run(run_rotate_credentials(settings))
    if args.command == "backup":
        from medremind.backup import run_backup

        return run_backup(settings, args.file)
    if args.command == "restore":
        from medremind.backup import run_restore

        return run_restore(settings, args.file, args.force)
    if args.command == "web":
        from medremind.web_workers import run_web

        return run_web(settings)
    if args.command == "worker":
        from medremind.worker_process import run_worker

        return run_worker(settings)
    if args.command == "dev":
        from medremind.dev import run_dev

        return run_dev(settings, console=not args.no_console)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
