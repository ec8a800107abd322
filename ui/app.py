"""The ``cityops`` entry point: parse the arguments, configure logging, run the command.

The headless commands live in :mod:`ui.commands`; the window is imported only when it runs.
Start-up problems end in one line on stderr and an exit code, never a traceback: a bad
config (also in a message box when started from a desktop launcher), a display Qt cannot
open, a reader of a headless command's output that goes away (``cityops export … | head``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import replace

from services.config import (
    AppConfig,
    ConfigError,
    MonitoringConfig,
    load_config,
    load_demo_config,
)
from ui.cli import parse_arguments
from ui.commands import COMMANDS, EXIT_CONFIG
from ui.startup import display_problem, launched_without_terminal

EXIT_NO_DISPLAY = 1
"""The exit code when Qt could not open a display."""

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv: list[str] | None = None) -> int:
    """Run ``cityops`` with ``argv`` (default: the process arguments); returns the exit code."""
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    configure_logging(args.log_level)
    command = COMMANDS.get(args.command)
    if command is not None:
        return run_headless(command, args)
    return run_window(args)


def run_headless(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a headless command as a Unix tool: when the reader of its output goes away
    (``cityops export … | head``) it stops quietly with exit code 0."""
    try:
        code = command(args)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return 0
    return code


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's flush at exit finds no broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout replaced by something without a descriptor
        pass


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
        return startup_failed(f"config error: {error}", EXIT_CONFIG)
    if args.metrics is not None:
        config = replace(config, monitoring=MonitoringConfig(listen=args.metrics))
    problem = display_problem()
    if problem is not None:
        print(f"cityops: {problem}", file=sys.stderr)
        return EXIT_NO_DISPLAY
    from widgets.palette import use_theme

    # Before the window's modules are imported: they copy the theme's colours.
    use_theme(args.theme or ("wall" if args.kiosk else config.theme))
    from services.monitoring import MetricsError, start_metrics

    try:  # before anything starts: a port in use is one line
        metrics = start_metrics(config)
    except MetricsError as error:
        return startup_failed(str(error), EXIT_CONFIG)
    engine = None
    if config.engine_process:  # it opens the cache and restores while Qt loads
        from services.engine.remote import EngineSession

        engine = EngineSession(config, args.cache_dir)
    from ui.runtime import run_gui

    try:
        return run_gui(
            config,
            args.cache_dir,
            screenshot=args.screenshot,
            screenshot_delay=args.screenshot_delay,
            language=args.lang,
            review=args.review,
            kiosk=args.kiosk,
            engine=engine,
            metrics=metrics,
        )
    finally:  # stopped by the window already, unless it never started (nobody signed in)
        if engine is not None:
            engine.stop()


def startup_failed(line: str, code: int) -> int:
    """Say why the window cannot start: on stderr, and in a message box as well when
    started from a desktop launcher (nobody reads stderr then); returns ``code``."""
    print(f"cityops: {line}", file=sys.stderr)
    if launched_without_terminal() and display_problem() is None:
        from ui.runtime import show_startup_error

        show_startup_error(line)
    return code


if __name__ == "__main__":
    sys.exit(main())
