"""Command-line parsing for ``cityops``: the GUI and its headless sub-commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from services.timeutil import parse_timestamp

SUBCOMMANDS = ("run", "check-config", "export")


def _time_argument(text: str) -> float:
    try:
        return parse_timestamp(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    """The ``cityops`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="cityops",
        description="CityOps: operations centre for a smart city. "
        "Without a sub-command it starts the window (the demo city when no --config).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="start the window (the default)")
    add_run_arguments(run)

    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("file", type=Path, help="the TOML config file")

    export = commands.add_parser("export", help="print cached alarms or readings to stdout")
    export.add_argument("what", choices=("alarms", "readings"))
    export.add_argument("--since", type=_time_argument, help="ISO-8601 time or epoch seconds")
    export.add_argument("--until", type=_time_argument, help="ISO-8601 time or epoch seconds")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--cache-dir", type=Path, help="the offline cache folder")
    return parser


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the window."""
    parser.add_argument("--config", type=Path, help="TOML config file (see README)")
    parser.add_argument(
        "--demo", action="store_true", help="run the Yiyang demo city with an embedded broker"
    )
    parser.add_argument("--cache-dir", type=Path, help="offline cache folder")
    parser.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="save a picture of the window after --screenshot-delay seconds, then quit",
    )
    parser.add_argument("--screenshot-delay", type=float, default=8.0, metavar="SECONDS")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; with no sub-command the arguments are those of ``run``."""
    parser = build_parser()
    if not argv or argv[0] not in (*SUBCOMMANDS, "-h", "--help"):
        argv = ["run", *argv]
    return parser.parse_args(argv)
