"""The ``cityops`` entry point."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import platformdirs

from services.config import AppConfig, ConfigError, load_config, load_demo_config
from ui.cli import parse_arguments

log = logging.getLogger(__name__)

EXIT_CONFIG = 2


def default_cache_dir() -> Path:
    """The platform's per-user cache folder for CityOps."""
    return Path(platformdirs.user_cache_dir("cityops", appauthor=False))


def main(argv: list[str] | None = None) -> int:
    """Run ``cityops`` with ``argv`` (default: the process arguments); returns the exit code."""
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    if args.command == "check-config":
        return check_config(args.file)
    if args.command == "export":
        return export_command(args)
    if args.command == "sim":
        return sim_command(args)
    return run_window(args)


def check_config(path: Path) -> int:
    """Validate a config file: 0 when valid, 2 with one clear message when not."""
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


def export_command(args: argparse.Namespace) -> int:
    """Print cached alarms or readings to stdout."""
    from services.store.cache import CacheError, OfflineCache
    from services.store.export import export

    cache_dir = args.cache_dir or default_cache_dir()
    if not (cache_dir / "cityops.sqlite3").exists():
        print(f"cityops: no offline cache in {cache_dir}", file=sys.stderr)
        return 1
    try:
        with OfflineCache(cache_dir) as cache:
            export(cache, args.what, args.format, sys.stdout, since=args.since, until=args.until)
    except CacheError as error:
        print(f"cityops: {error}", file=sys.stderr)
        return 1
    return 0


def sim_command(args: argparse.Namespace) -> int:
    """Publish the simulated city to a broker; prints the achieved rate. No Qt on this path."""
    import signal
    import threading

    from services.demo.loadgen import LoadError, LoadOptions, run_load

    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
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


def resolve_config(args: argparse.Namespace) -> AppConfig:
    """The config named on the command line, else the demo city."""
    if args.config is not None and not args.demo:
        return load_config(args.config)
    return load_demo_config()


def run_window(args: argparse.Namespace) -> int:
    """Start the operations window; returns the exit code."""
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = resolve_config(args)
    except ConfigError as error:
        print(f"cityops: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    from ui.runtime import run_gui

    return run_gui(
        config,
        args.cache_dir or default_cache_dir(),
        screenshot=args.screenshot,
        screenshot_delay=args.screenshot_delay,
    )


if __name__ == "__main__":
    sys.exit(main())
