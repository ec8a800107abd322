"""Command-line parsing for ``cityops``: the GUI and its headless sub-commands.

Parsing imports neither Qt nor the demo: ``sim --scenario`` reads the scenario names from the
demo only when it checks one or prints ``sim --help``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import platformdirs

from services.auth.roles import Role
from services.config.listen import ListenAddress, parse_listen_address
from services.config.schema import THEMES
from services.store.export import FORMATS as EXPORT_FORMATS
from services.store.export import WHATS as EXPORTS
from services.store.history import RESOLUTIONS
from services.timeutil import parse_time_argument

SUBCOMMANDS = ("run", "check-config", "export", "report", "sim", "users", "audit", "tiles")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LANGUAGES = ("en", "zh_CN")
"""The window's languages: English (the source) and Simplified Chinese."""


def default_cache_dir() -> Path:
    """The platform's per-user cache folder for CityOps."""
    return Path(platformdirs.user_cache_dir("cityops", appauthor=False))


class _DemoScenarios:
    """The demo's scenario names as argparse ``choices``, looked up when first needed."""

    def __iter__(self) -> Iterator[str]:
        from services.demo.scenarios import SCENARIOS

        return iter(SCENARIOS)

    def __contains__(self, name: object) -> bool:
        return any(name == known for known in self)


def _time_argument(text: str) -> float:
    try:
        return parse_time_argument(text, time.time())
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _listen_argument(text: str) -> ListenAddress:
    try:
        return parse_listen_address(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _number_argument(
    minimum: float, *, strict: bool, whole: bool = False
) -> Callable[[str], float]:
    """An argparse type for numbers above (or, with ``strict=False``, at) ``minimum``."""

    def convert(text: str) -> float:
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            kind = "a whole number" if whole else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if value < minimum or (strict and value == minimum):
            relation = "greater than" if strict else "at least"
            raise argparse.ArgumentTypeError(f"must be {relation} {minimum:g}, got {text}")
        return value

    return convert


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
    _add_log_level(check, "WARNING")

    export = commands.add_parser(
        "export", help="print cached alarms, alarm events, readings or actions to stdout"
    )
    export.add_argument("what", choices=EXPORTS)
    export.add_argument(
        "subject",
        nargs="*",
        metavar="ENTITY METRIC",
        help="for series: the entity id and the metric",
    )
    export.add_argument(
        "--resolution",
        choices=RESOLUTIONS,
        default="auto",
        help="for series: raw, 1m or 15m buckets, or auto (by the window; the default)",
    )
    when = (
        "-8h, '1 hour ago', today, 14:05, an ISO-8601 time (local unless it says its zone)"
        " or epoch seconds; exported times are UTC"
    )
    export.add_argument("--since", type=_time_argument, help=when)
    export.add_argument("--until", type=_time_argument, help=when)
    export.add_argument("--at", type=_time_argument, help="for state: the moment (" + when + ")")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="json")
    export.add_argument("--cache-dir", type=Path, help="the offline cache folder")
    _add_log_level(export, "WARNING")

    report = commands.add_parser(
        "report",
        help="write the shift handover report of a time window as PDF or HTML",
        description="Write the shift handover report of [--since, --until] from the offline "
        "cache: summary, alarms by priority and domain, alarm-system KPIs, incidents with "
        "their notes, standing, chattering and unacknowledged alarms, KPI trends, a map of "
        "the city at the end, sign-ins. Runs without a window.",
    )
    report.add_argument(
        "--since", type=_time_argument, help=f"the start (default: --until - 8h); {when}"
    )
    report.add_argument("--until", type=_time_argument, help=f"the end (default: now); {when}")
    report.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="the file to write: .pdf (A4) or .html (standalone, pictures inline)",
    )
    report.add_argument(
        "--config", type=Path, help="the TOML config whose KPIs to chart (default: the demo city's)"
    )
    report.add_argument("--cache-dir", type=Path, help="the offline cache folder")
    _add_log_level(report, "WARNING")

    sim = commands.add_parser(
        "sim",
        help="publish the simulated Yiyang city to a broker (demo feed and load generator)",
        description="Publish the simulated Yiyang city to an MQTT broker, in the formats of "
        "resources/demo.toml, at the city's own pace or at a fixed rate; prints the achieved "
        "rate when done. Runs without a window.",
    )
    add_sim_arguments(sim)
    add_users_commands(commands)
    add_tiles_commands(commands)

    audit = commands.add_parser("audit", help="check the audit trail of operator actions")
    audit_actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_actions.add_parser(
        "verify", help="exit 0 when the trail is intact, 3 naming the first bad entry"
    )
    verify.add_argument("--cache-dir", type=Path, help="the offline cache folder")
    _add_log_level(verify, "WARNING")
    return parser


def add_tiles_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``cityops tiles prefetch|list|delete|export|import``: the offline tile store."""
    tiles = commands.add_parser(
        "tiles",
        help="prefetch, list, delete, export and import offline map tiles",
        description="The offline tile store (tiles.sqlite3 in the cache folder): named sets of "
        "a base map ([[map.basemaps]] of --config) over a box and zoom levels, carried between "
        "workstations as MBTiles files.",
    )
    actions = tiles.add_subparsers(dest="tiles_command", metavar="ACTION", required=True)
    prefetch = actions.add_parser(
        "prefetch", help="fetch a base map's tiles of a box over zoom levels into a named set"
    )
    prefetch.add_argument("--basemap", required=True, help="the [[map.basemaps]] name")
    prefetch.add_argument("--bbox", required=True, metavar="W,S,E,N", help="degrees")
    prefetch.add_argument("--zoom", required=True, metavar="N-M", help="zoom levels, e.g. 10-15")
    prefetch.add_argument("--name", help="the set's name (default: base map, box and zooms)")
    listing = actions.add_parser("list", help="the sets with their tile counts and sizes")
    delete = actions.add_parser("delete", help="delete a set (its tiles join the browsing cache)")
    delete.add_argument("name", help="the set's name")
    export = actions.add_parser("export", help="write a set's tiles to a new MBTiles file")
    export.add_argument("name", metavar="NAME", help="the set's name")
    export.add_argument(
        "file", metavar="FILE", type=Path, help="the .mbtiles file to write (never overwritten)"
    )
    imports = actions.add_parser(
        "import", help="store the tiles of an MBTiles or PMTiles file as a new set"
    )
    imports.add_argument("file", metavar="FILE", type=Path, help="the .mbtiles or .pmtiles file")
    imports.add_argument("--name", help="the set's name (default: the name the file gives)")
    imports.add_argument(
        "--basemap",
        help="the [[map.basemaps]] name its tiles are of (default: the one the file names)",
    )
    for action in (prefetch, listing, delete, export, imports):
        action.add_argument("--config", type=Path, help="TOML config file (default: the demo)")
        action.add_argument("--cache-dir", type=Path, help="the offline cache folder")
        _add_log_level(action, "WARNING")


def add_users_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``cityops users add|passwd|remove|list``: the local accounts of sign-in."""
    users = commands.add_parser(
        "users",
        help="manage the local accounts people sign in with",
        description="Manage the accounts in the users file ([auth] users_file of --config, "
        "else users.json in the platform config folder). Passwords are read from the "
        "terminal (asked twice) or, when stdin is not a terminal, as one line from stdin, "
        "and stored only as argon2id hashes.",
    )
    actions = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add an account (asks for its password)")
    add.add_argument("name", help="the user name")
    add.add_argument("--role", required=True, choices=tuple(role.value for role in Role))
    passwd = actions.add_parser("passwd", help="set an account's password")
    passwd.add_argument("name", help="the user name")
    remove = actions.add_parser("remove", help="remove an account")
    remove.add_argument("name", help="the user name")
    listing = actions.add_parser("list", help="list the accounts: names and roles")
    for parser in (add, passwd, remove, listing):
        parser.add_argument(
            "--config", type=Path, help="the TOML config whose [auth] users_file to use"
        )
        _add_log_level(parser, "WARNING")


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cityops sim``."""
    positive = _number_argument(0.0, strict=True)
    parser.add_argument(
        "--broker",
        default="mqtt://127.0.0.1:1883",
        metavar="URL",
        help="mqtt://, mqtts://, ws:// or wss:// URL (default %(default)s)",
    )
    parser.add_argument(
        "--rate",
        type=positive,
        metavar="N",
        help="messages per second in total, evenly paced "
        "(default: every device once per --interval)",
    )
    parser.add_argument(
        "--entities",
        type=_number_argument(1, strict=False, whole=True),
        metavar="M",
        help="simulated devices (default: the demo city's own, about 100); more are "
        "numbered replicas",
    )
    parser.add_argument(
        "--duration",
        type=_number_argument(0.0, strict=False),
        default=0.0,
        metavar="S",
        help="seconds to publish (default 0: until Ctrl+C)",
    )
    parser.add_argument(
        "--scenario",
        choices=_DemoScenarios(),
        default="normal",
        metavar="NAME",
        help="what happens in the city: %(choices)s (default %(default)s)",
    )
    parser.add_argument("--qos", type=int, choices=(0, 1, 2), default=0)
    parser.add_argument(
        "--seed", type=int, default=0, help="same seed, same data (default %(default)s)"
    )
    parser.add_argument(
        "--speed",
        type=positive,
        default=1.0,
        metavar="X",
        help="simulated seconds per second, e.g. 60 = one simulated minute per second",
    )
    parser.add_argument(
        "--processes",
        type=_number_argument(0, strict=False, whole=True),
        default=0,
        metavar="P",
        help="publishing processes (default 0: as many as --rate needs)",
    )
    parser.add_argument(
        "--interval",
        type=positive,
        default=1.0,
        metavar="S",
        help="seconds between rounds without --rate (default %(default)s)",
    )
    parser.add_argument("--username", default="", help="broker user name")
    parser.add_argument(
        "--password-env", default="", metavar="NAME", help="environment variable with the password"
    )
    parser.add_argument("--ca-file", default="", metavar="PEM", help="CA bundle for mqtts/wss")
    _add_log_level(parser, "WARNING")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the window."""
    parser.add_argument("--config", type=Path, help="TOML config file (see README)")
    parser.add_argument(
        "--demo", action="store_true", help="run the Yiyang demo city with an embedded broker"
    )
    parser.add_argument("--cache-dir", type=Path, help="offline cache folder")
    parser.add_argument(
        "--theme",
        choices=THEMES,
        help="the window's look: operator (ISA-101 greys, the default), dark, or wall "
        "(high contrast, large type); overrides [app] theme in the config",
    )
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="the window's language: en or zh_CN (default: the system locale's, English "
        "unless it is Chinese)",
    )
    parser.add_argument(
        "--metrics",
        type=_listen_argument,
        metavar="ADDR",
        help="serve Prometheus metrics on [HOST:]PORT (a bare port listens on 127.0.0.1 "
        "only); overrides [monitoring] listen in the config",
    )
    parser.add_argument(
        "--kiosk",
        action="store_true",
        help="run as a wall display: frameless full screen on [kiosk] screen, no menus, the "
        "[kiosk] pages rotating (wall theme unless --theme says otherwise)",
    )
    parser.add_argument(
        "--review",
        nargs="?",
        const="shift",
        choices=("hour", "shift", "day"),
        metavar="WINDOW",
        help="open in the review workspace: replay this shift (default), the last hour or "
        "day (hour, shift, day); live recording continues and Ctrl+R returns to live",
    )
    _add_log_level(parser, "INFO")
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="save a picture of the window after --screenshot-delay seconds, then quit",
    )
    parser.add_argument("--screenshot-delay", type=float, default=8.0, metavar="SECONDS")


def _add_log_level(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--log-level", default=default, choices=LOG_LEVELS, help="default %(default)s"
    )


TIME_OPTIONS = ("--since", "--until", "--at")


def _attach_time_values(argv: list[str]) -> list[str]:
    """``--since -8h`` as ``--since=-8h``: argparse would take a value starting with "-"
    for an option."""
    joined: list[str] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        if word in TIME_OPTIONS and index + 1 < len(argv) and argv[index + 1].startswith("-"):
            joined.append(f"{word}={argv[index + 1]}")
            index += 2
            continue
        joined.append(word)
        index += 1
    return joined


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; with no sub-command the arguments are those of ``run``.

    A missing ``--cache-dir`` becomes :func:`default_cache_dir`.
    """
    parser = build_parser()
    if not argv or argv[0] not in (*SUBCOMMANDS, "-h", "--help"):
        argv = ["run", *argv]
    args = parser.parse_args(_attach_time_values(argv))
    if getattr(args, "cache_dir", default_cache_dir) is None:
        args.cache_dir = default_cache_dir()
    return args
