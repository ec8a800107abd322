"""The ``cityops`` entry point: parse the arguments, configure logging, run the command.

The headless commands live in :mod:`ui.commands`; the window is imported only when it runs.
"""

from __future__ import annotations

import argparse
import logging
import sys

from services.config import AppConfig, ConfigError, load_config, load_demo_config
from ui.cli import parse_arguments
from ui.commands import COMMANDS, EXIT_CONFIG

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv: list[str] | None = None) -> int:
    """Run ``cityops`` with ``argv`` (default: the process arguments); returns the exit code."""
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    configure_logging(args.log_level)
    command = COMMANDS.get(args.command)
    if command is not None:
        return command(args)
    return run_window(args)


def configure_logging(level: str) -> None:
    """The one logging set-up of every command: ``level`` and up to stderr, named by module.

    Does nothing when the root logger already has handlers (an embedding program or pytest
    set it up).
    """
    logging.basicConfig(level=getattr(logging, level), format=LOG_FORMAT)


def resolve_config(args: argparse.Namespace) -> AppConfig:
    """The config named on the command line, else the demo city."""
    if args.config is not None and not args.demo:
        return load_config(args.config)
    return load_demo_config()


def run_window(args: argparse.Namespace) -> int:
    """Start the operations window; returns the exit code."""
    try:
        config = resolve_config(args)
    except ConfigError as error:
        print(f"cityops: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    from ui.runtime import run_gui

    return run_gui(
        config,
        args.cache_dir,
        screenshot=args.screenshot,
        screenshot_delay=args.screenshot_delay,
    )


if __name__ == "__main__":
    sys.exit(main())
