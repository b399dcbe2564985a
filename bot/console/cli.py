"""Command line for the console: ``python -m bot.console COMMAND``.

create-user   create a console user (the first supervisor, agents, departments);
              the password comes from the prompt or CONSOLE_PASSWORD, never argv
set-password  a user's new password (prompt or CONSOLE_PASSWORD)
set-role      a user's new role (and department)
deactivate    a user can no longer sign in; activate undoes it
stats         service level of the human handoff over a period
report        the hotline's figures over a period (docs/figures.md) as JSON, CSV or XLSX
seed-day      write one simulated day of traffic (a scratch database only)
emergency     the emergency mode: on --notice TEXT [--faq KEY ...] [--keyword W ...]
              [--drill] | off | status | report [--id N] [--format text|json]
              (the switch lives in the shared store: needs REDIS_URL, the
              store the front door uses; audited with actor ``cli``)

Every user change is written to the audit log (actor ``cli``) and ends all
of that user's console sessions (open consoles close within
CONSOLE_SOCKET_RECHECK seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import getpass
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Settings, load_settings
from bot.console.users import ROLES, UserExists, UserRepo
from bot.db.database import Database
from bot.db.models import LOCAL_TZ


def build_parser() -> argparse.ArgumentParser:
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bot.console", description=summary)
    parser.add_argument("--database-url", help="default: DATABASE_URL, else var/hotline.db")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-user", help="create a console user")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--department", help="a department key of data/routing.yml")
    create.add_argument("--display-name", help="the name shown to citizens and colleagues")
    password = sub.add_parser("set-password", help="set a console user's password")
    password.add_argument("--username", required=True)
    role = sub.add_parser("set-role", help="change a console user's role")
    role.add_argument("--username", required=True)
    role.add_argument("--role", required=True, choices=ROLES)
    role.add_argument("--department", help="a department key of data/routing.yml")
    for name in ("deactivate", "activate"):
        sub.add_parser(name, help=f"{name} a console user").add_argument(
            "--username", required=True
        )
    stats = sub.add_parser("stats", help="handoff service level over a period")
    stats.add_argument("--since", required=True, type=_date, help="YYYY-MM-DD (local time)")
    stats.add_argument("--until", type=_date, help="YYYY-MM-DD, exclusive (default: now)")
    report = sub.add_parser("report", help="the hotline's figures (docs/figures.md)")
    report.add_argument("--since", required=True, type=_day, help="YYYY-MM-DD, local, included")
    report.add_argument("--until", required=True, type=_day, help="YYYY-MM-DD, local, included")
    report.add_argument("--format", choices=("json", "csv", "xlsx"), default="json")
    report.add_argument("--group", choices=("day", "week", "month"), default="day")
    report.add_argument("--out", help="write to this file (default: standard output)")
    for key in ("channel", "department", "category", "town"):
        report.add_argument(f"--{key}", help=f"only this {key}")
    seed = sub.add_parser("seed-day", help="write one simulated day of traffic")
    seed.add_argument("--date", required=True, type=_day, help="YYYY-MM-DD, the local day")
    seed.add_argument("--seed", type=int, default=1, help="random seed (same seed, same day)")
    seed.add_argument("--citizens", type=int, default=300, help="how many citizens (1-20000)")
    seed.add_argument(
        "--force", action="store_true", help="write even into a database that has records"
    )
    emergency = sub.add_parser("emergency", help="switch the emergency mode, its report")
    what = emergency.add_subparsers(dest="emergency_command", required=True)
    on = what.add_parser("on", help="switch the emergency mode on")
    on.add_argument("--notice", required=True, help="the notice citizens see first")
    on.add_argument("--faq", action="append", default=[], help="an FAQ key to answer first")
    on.add_argument(
        "--keyword", action="append", default=[], help="a word naming the incident (repeat)"
    )
    on.add_argument("--drill", action="store_true", help="a drill: its events are marked")
    what.add_parser("off", help="switch the emergency mode off")
    what.add_parser("status", help="is it on, since when, by whom")
    report = what.add_parser("report", help="the incident report of a period")
    report.add_argument("--id", type=int, help="the period (default: the latest)")
    report.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日期格式应为 YYYY-MM-DD，例如 2026-12-01 (got {value!r})"
        ) from None


def _date(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a date like 2026-11-01") from None
    return dt.datetime.combine(day, dt.time(), LOCAL_TZ)


def _database(args: argparse.Namespace, settings: Settings) -> Database:
    if args.database_url:
        settings = dataclasses.replace(settings, database_url=args.database_url)
    return Database.from_settings(settings)


def _password(settings: Settings) -> str:
    """``CONSOLE_PASSWORD`` (``settings.console.cli_password``), else the prompt."""
    if settings.console.cli_password:
        return str(settings.console.cli_password)
    first = getpass.getpass("密码 / password: ")
    if first != getpass.getpass("再次输入 / again: "):
        raise ValueError("the two passwords differ")
    return first


async def _create_user(args: argparse.Namespace, settings: Settings) -> int:
    password = _password(settings)
    async with _database(args, settings) as db:
        try:
            user = await UserRepo(db).create(
                username=args.username, password=password, role=args.role,
                display_name=args.display_name, department=args.department, actor="cli",
            )  # fmt: skip
        except UserExists:
            sys.stderr.write(f"user {args.username!r} exists already\n")
            return 1
    sys.stdout.write(f"created {user.role} {user.username} ({user.display_name})\n")
    return 0


async def _change_user(args: argparse.Namespace, settings: Settings) -> int:
    password = _password(settings) if args.command == "set-password" else ""
    async with _database(args, settings) as db:
        users = UserRepo(db)
        if args.command == "set-password":
            done = await users.set_password(args.username, password, actor="cli")
        elif args.command == "set-role":
            done = await users.set_role(args.username, args.role, args.department, actor="cli")
        else:
            active = args.command == "activate"
            done = await users.set_active(args.username, active, actor="cli")
    if not done:
        sys.stderr.write(f"no user {args.username!r}\n")
        return 1
    sys.stdout.write(f"{args.command}: {args.username} (their console sessions have ended)\n")
    return 0


async def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console.stats import handoff_stats, render

    until = args.until or dt.datetime.now(LOCAL_TZ)
    async with _database(args, settings) as db:
        figures = await handoff_stats(db, args.since, until)
    sys.stdout.write(render(figures, args.since, until))
    return 0


async def _report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reports import compute_report
    from bot.reports.export import to_csv, to_xlsx

    if args.format == "xlsx" and not args.out and sys.stdout.isatty():
        sys.stderr.write("error: xlsx is binary: give --out FILE or redirect the output\n")
        return 2
    filters = {k: getattr(args, k) for k in ("channel", "department", "category", "town")}
    async with _database(args, settings) as db:
        doc = await compute_report(db, args.since, args.until, group=args.group, filters=filters)
    if args.format == "json":
        body = (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()
    elif args.format == "csv":
        body = to_csv(doc).encode("utf-8-sig" if args.out else "utf-8")
    else:
        body = to_xlsx(doc)
    if args.out:
        try:
            await asyncio.to_thread(Path(args.out).write_bytes, body)
        except OSError as exc:
            sys.stderr.write(f"error: cannot write {args.out}: {exc.strerror or exc}\n")
            return 2
        sys.stderr.write(f"wrote {args.out} ({len(body)} bytes)\n")
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    return 0


async def _seed_day(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reports.seed import SeedRefused, seed_day

    if not 1 <= args.citizens <= 20000:
        raise ValueError("--citizens must be between 1 and 20000")
    async with _database(args, settings) as db:
        try:
            summary = await seed_day(db, args.date, seed=args.seed, citizens=args.citizens,
                                     force=args.force)  # fmt: skip
        except SeedRefused as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 3
    sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return 0
async def _emergency(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from bot.emergency import EmergencyBoard, EmergencyError, switch_off, switch_on
    from bot.emergency.report import incident_report, render
    from bot.store import make_store

    command = args.emergency_command
    if command == "report":
        async with _database(args, settings) as db:
            doc = await incident_report(db, args.id)
        if doc is None:
            sys.stderr.write("no emergency period recorded\n")
            return 1
        if args.format == "json":
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        else:
            sys.stdout.write(render(doc))
        return 0
    if not settings.redis_url:
        raise ValueError(
            "the emergency switch lives in the shared store: set REDIS_URL (the front "
            "door's), or use the console's page /console/emergency on a single machine"
        )
    store = make_store(settings)
    board = EmergencyBoard(store, refresh=0.0)
    try:
        if command == "status":
            state = await board.fresh()
            sys.stdout.write(json.dumps(state.to_dict(), ensure_ascii=False, indent=2) + "\n")
            return 0
        async with _database(args, settings) as db:
            try:
                if command == "on":
                    done = await switch_on(
                        board, db, notice=args.notice, faq=args.faq, keywords=args.keyword,
                        drill=args.drill, actor="cli",
                    )  # fmt: skip
                    kind = "drill" if args.drill else "emergency"
                    sys.stdout.write(f"{kind} mode on (period {done.period_id})\n")
                else:
                    done = await switch_off(board, db, actor="cli")
                    sys.stdout.write(
                        f"emergency mode off (period {done.period_id}); report: "
                        f"python -m bot.console emergency report --id {done.period_id}\n"
                    )
            except EmergencyError as exc:
                sys.stderr.write(f"error: {exc.message} ({exc.code})\n")
                return 1
        return 0
    finally:
        await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()  # a bad setting is reported like any other error
        if args.command == "create-user":
            return asyncio.run(_create_user(args, settings))
        if args.command in ("set-password", "set-role", "deactivate", "activate"):
            return asyncio.run(_change_user(args, settings))
        if args.command == "report":
            return asyncio.run(_report(args, settings))
        if args.command == "seed-day":
            return asyncio.run(_seed_day(args, settings))
        if args.command == "emergency":
            return asyncio.run(_emergency(args, settings))
        return asyncio.run(_stats(args, settings))
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
