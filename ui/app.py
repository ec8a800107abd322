"""The ``cityops`` entry point."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import platformdirs

from services.config import AppConfig, ConfigError, load_config, load_demo_config
from ui.cli import parse_arguments

log = logging.getLogger("cityops.app")

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
    from services.cache import CacheError, OfflineCache
    from services.export import export

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
