"""The headless sub-commands of ``cityops``: ``check-config``, ``export``, ``report``,
``sim`` and ``users``.

They never import Qt, and only ``sim`` imports the demo (the import-linter contracts and
tests/ui/test_headless.py check both), except ``report``, which checks its options and
builds the report without either, then imports the Qt renderer (and, for the demo city's
district outlines, the demo) only to draw it. Each takes the parsed arguments and returns the exit
code; a new command is a function here plus its entry in :data:`COMMANDS` and its options in
:mod:`ui.cli`.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from services.auth.accounts import AccountsError, UserStore, default_users_file, password_problem
from services.auth.roles import Role
from services.config import ConfigError, load_config

if TYPE_CHECKING:  # the cache is imported only by the commands that use it
    from services.store.audit import AuditReport
    from services.store.cache import OfflineCache

EXIT_AUDIT_BROKEN = 3
"""``cityops audit verify`` found the trail edited, reordered or cut."""
EXIT_CONFIG = 2
"""The exit code for a bad config file or bad options."""


def check_config(args: argparse.Namespace) -> int:
    """Validate a config file: 0 when valid, 2 with one clear message when not."""
    path = args.file
    try:
        config = load_config(path)
    except ConfigError as error:
        print(f"cityops: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"{path}: OK ({len(config.feeds)} feeds, {len(config.rules)} rules, "
        f"{len(config.geofences)} geofences, {len(config.kpis)} KPIs, "
        f"{len(config.dashboards)} dashboards)"
    )
    for dashboard in config.dashboards:  # a wrong widget is shown in its frame, not fatal
        for problem in dashboard.problems:
            print(f"{path}: warning: {problem} (the widget shows this in its frame)")
    return 0


def with_cache(cache_dir: Path, work: Callable[[OfflineCache], int]) -> int:
    """Run ``work`` on the existing cache in ``cache_dir``; 1 with a reason when there is no
    cache or it cannot be read."""
    from services.store.cache import FILE_NAME, CacheError, OfflineCache

    if not (cache_dir / FILE_NAME).exists():
        print(f"cityops: no offline cache in {cache_dir}", file=sys.stderr)
        return 1
    try:
        with OfflineCache(cache_dir) as cache:
            return work(cache)
    except CacheError as error:
        print(f"cityops: {error}", file=sys.stderr)
        return 1


def export(args: argparse.Namespace) -> int:
    """Print cached alarms, readings or actions to stdout."""
    from services.store.export import export as write_export
    from services.store.export import export_series, export_state

    if (args.what == "series") != bool(args.subject):
        problem = (
            "export series needs an entity and a metric: cityops export series ENTITY METRIC"
            if args.what == "series"
            else f"export {args.what} takes no ENTITY METRIC"
        )
        print(f"cityops: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    if args.what == "series" and len(args.subject) != 2:
        print("cityops: export series takes exactly ENTITY METRIC", file=sys.stderr)
        return EXIT_CONFIG

    if args.what == "state" and args.format != "json":
        print("cityops: export state is a JSON object; drop --format csv", file=sys.stderr)
        return EXIT_CONFIG

    def work(cache: OfflineCache) -> int:
        if args.what == "state":
            now = time.time()
            export_state(cache, now if args.at is None else args.at, sys.stdout, now)
            return 0
        if args.what == "series":
            entity_id, metric = args.subject
            export_series(
                cache,
                entity_id,
                metric,
                args.format,
                sys.stdout,
                args.since,
                args.until,
                args.resolution,
                time.time(),
            )
            return 0
        write_export(cache, args.what, args.format, sys.stdout, since=args.since, until=args.until)
        return 0

    return with_cache(args.cache_dir, work)


def report(args: argparse.Namespace) -> int:
    """Write the handover report of [--since, --until] to --out: 0 when written, 2 for
    bad options or config, 1 when the cache cannot be read or the file written."""
    from services.config import load_demo_config
    from services.report.handover import (
        DEFAULT_SPAN_S,
        OUTPUT_SUFFIXES,
        ReportError,
        build_report,
    )
    from services.store.cache import FILE_NAME

    until = time.time() if args.until is None else args.until
    since = until - DEFAULT_SPAN_S if args.since is None else args.since
    if since >= until:
        print("cityops report: --since must be before --until", file=sys.stderr)
        return EXIT_CONFIG
    out: Path = args.out
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        print(f"cityops report: {out.name}: write a .pdf or an .html file (--out)", file=sys.stderr)
        return EXIT_CONFIG
    if not out.parent.is_dir():
        print(f"cityops report: no folder {out.parent} to write {out.name} in", file=sys.stderr)
        return 1
    try:
        config = load_config(args.config) if args.config is not None else load_demo_config()
    except ConfigError as error:
        print(f"cityops: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    started = time.perf_counter()
    try:
        handover = build_report(args.cache_dir / FILE_NAME, config, since, until)
    except ReportError as error:
        print(f"cityops report: {error}", file=sys.stderr)
        return 1
    built = time.perf_counter() - started
    from ui.report_render import demo_districts, write_headless

    try:
        write_headless(handover, out, demo_districts() if config.demo else None)
    except OSError as error:
        print(f"cityops report: cannot write {out}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(
        f"cityops report: wrote {out} ({handover.summary.alarms_raised} alarms raised, "
        f"{len(handover.incidents)} incidents; built in {built:.1f} s, "
        f"{time.perf_counter() - started:.1f} s in all)"
    )
    return 0


def sim(args: argparse.Namespace) -> int:
    """Publish the simulated city to a broker; prints the achieved rate."""
    import signal
    import threading

    from services.demo.loadgen import LoadError, LoadOptions, run_load

    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            print(f"cityops: environment variable {args.password_env} is not set", file=sys.stderr)
            return EXIT_CONFIG
    options = LoadOptions(
        broker=args.broker,
        rate=args.rate,
        entities=args.entities,
        duration=args.duration,
        scenario=args.scenario,
        qos=args.qos,
        seed=args.seed,
        speed=args.speed,
        processes=args.processes,
        interval=args.interval,
        username=args.username,
        password=password,
        ca_file=args.ca_file,
    )
    try:
        options.check()
    except ValueError as error:
        print(f"cityops: {error}", file=sys.stderr)
        return EXIT_CONFIG
    pace = f"{args.rate:g} msg/s" if args.rate else f"every device every {args.interval:g} s"
    until = f"for {args.duration:g} s" if args.duration else "until Ctrl+C"
    print(
        f"cityops sim: publishing scenario {args.scenario} to {args.broker}, {pace}, "
        f"{options.process_count()} process(es), {until}",
        file=sys.stderr,
        flush=True,
    )
    stop = threading.Event()
    previous = {
        number: signal.signal(number, lambda *_: stop.set())
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        report = run_load(options, stop)
    except LoadError as error:
        print(f"cityops sim: {error}", file=sys.stderr)
        return 1
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    print(report.summary(), flush=True)
    for problem in report.errors:
        print(f"cityops sim: {problem}", file=sys.stderr)
    if not report.kept_up:
        print(
            f"cityops sim: could not keep up {args.rate:g} msg/s with {report.processes} "
            "process(es); try more --processes (or a faster broker)",
            file=sys.stderr,
        )
    return 0


def read_new_password(
    name: str,
    stdin: TextIO | None = None,
    ask: Callable[[str], str] = getpass.getpass,
) -> str:
    """A new password for ``name``: asked twice on the terminal, or one line of stdin when
    it is not a terminal. AccountsError when it is missing, unfit or typed differently."""
    stdin = sys.stdin if stdin is None else stdin
    if stdin.isatty():
        password = ask(f"New password for {name}: ")
        problem = password_problem(password)
        if problem:
            raise AccountsError(problem)
        if ask("Repeat it: ") != password:
            raise AccountsError("the two passwords differ; nothing changed")
        return password
    line = stdin.readline()
    if not line:
        raise AccountsError("no password on stdin (one line expected)")
    password = line.removesuffix("\n").removesuffix("\r")
    problem = password_problem(password)
    if problem:
        raise AccountsError(problem)
    return password


def users_file_for(config_path: Path | None) -> Path:
    """The users file of the config at ``config_path`` (``[auth] users_file``), else the
    default one."""
    if config_path is None:
        return default_users_file()
    return load_config(config_path).auth.users_file or default_users_file()


def users(args: argparse.Namespace) -> int:
    """``cityops users add|passwd|remove|list``: change or list the local accounts."""
    try:
        store = UserStore(users_file_for(args.config))
    except ConfigError as error:
        print(f"cityops: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    action = args.users_command
    try:
        if action == "list":
            accounts = store.accounts()
            if not accounts:
                print(f"cityops: no accounts in {store.path}", file=sys.stderr)
            width = max((len(account.name) for account in accounts), default=0)
            for account in accounts:
                print(f"{account.name:<{width}}  {account.role.value}")
        elif action == "add":
            role = Role.parse(args.role)
            if store.find(args.name) is not None:
                raise AccountsError(f"user {args.name.strip()!r} exists already")
            account = store.add(args.name, role, read_new_password(args.name.strip()))
            print(f"added {account.name} ({role.value}) to {store.path}")
        elif action == "passwd":
            found = store.find(args.name)
            if found is None:
                raise AccountsError(f"no user {args.name.strip()!r} in {store.path}")
            store.set_password(found.name, read_new_password(found.name))
            print(f"changed the password of {found.name} in {store.path}")
        else:
            removed = store.remove(args.name)
            print(f"removed {removed.name} ({removed.role.value}) from {store.path}")
            if not store.accounts():
                print(
                    f"cityops: {store.path} has no accounts left: while it exists, the window "
                    "does not start unless [auth] mode is single-user (add an account or "
                    "delete the file)",
                    file=sys.stderr,
                )
    except AccountsError as error:
        print(f"cityops users: {error}", file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print("\ncityops users: cancelled; nothing changed", file=sys.stderr)
        return 1
    return 0


def audit(args: argparse.Namespace) -> int:
    """Check the audit trail's hash chain: 0 when intact, 3 naming the first bad entry."""

    def work(cache: OfflineCache) -> int:
        return report_audit(cache.verify_audit())

    return with_cache(args.cache_dir, work)


def report_audit(report: AuditReport) -> int:
    """Print what ``cityops audit verify`` found; its exit code."""
    if not report.intact:
        print(f"cityops audit: NOT intact: {report.problem}", file=sys.stderr)
        return EXIT_AUDIT_BROKEN
    print(
        f"cityops audit: intact, {report.entries} entries; head {report.head_seq} "
        f"{report.head_hash}"
    )
    return 0


def tiles(args: argparse.Namespace) -> int:
    """``cityops tiles prefetch|list|delete`` (see :mod:`ui.tile_commands`)."""
    from ui.tile_commands import run_tiles

    return run_tiles(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "audit": audit,
    "check-config": check_config,
    "export": export,
    "report": report,
    "sim": sim,
    "tiles": tiles,
    "users": users,
}
"""Sub-command name → its function; anything else starts the window."""
