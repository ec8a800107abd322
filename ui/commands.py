"""The headless sub-commands of ``cityops``: ``check-config``, ``export`` and ``sim``.

They never import Qt, and only ``sim`` imports the demo (the import-linter contracts and
tests/ui/test_headless.py check both). Each takes the parsed arguments and returns the exit
code; a new command is a function here plus its entry in :data:`COMMANDS` and its options in
:mod:`ui.cli`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from services.config import ConfigError, load_config

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
        f"{len(config.kpis)} KPIs)"
    )
    return 0


def export(args: argparse.Namespace) -> int:
    """Print cached alarms or readings to stdout."""
    from services.store.cache import CacheError, OfflineCache
    from services.store.export import export as write_export

    cache_dir = args.cache_dir
    if not (cache_dir / "cityops.sqlite3").exists():
        print(f"cityops: no offline cache in {cache_dir}", file=sys.stderr)
        return 1
    try:
        with OfflineCache(cache_dir) as cache:
            write_export(
                cache, args.what, args.format, sys.stdout, since=args.since, until=args.until
            )
    except CacheError as error:
        print(f"cityops: {error}", file=sys.stderr)
        return 1
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


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check-config": check_config,
    "export": export,
    "sim": sim,
}
"""Sub-command name → its function; anything else starts the window."""
