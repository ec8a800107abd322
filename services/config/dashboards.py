"""Dashboards and the kiosk in the config: ``[[dashboards]]`` with their grid of widgets,
``[kiosk]``, and the group filters KPIs and widgets share (``domain``, ``type``,
``district``, ``entities``).

A widget whose definition is wrong does not fail the config: it is read as a
:class:`WidgetConfig` whose ``problem`` names the key and what is wrong, so the view can show
that in the widget's own frame while the rest of the dashboard works. Everything else (a
dashboard without a name, two of the same name, a wrong ``[kiosk]``) is a ``ConfigError``.

Rows and columns count from 0; a widget must fit within its dashboard's ``columns`` and may
not cover a cell an earlier widget of the dashboard covers (it becomes a problem instead).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from services.config.errors import ConfigError
from services.config.schema import DOMAINS, PRIORITY_SEVERITY, Group
from services.timeutil import parse_duration

if TYPE_CHECKING:
    from services.config.loader import _Reader

log = logging.getLogger(__name__)

WIDGET_KINDS = ("gauge", "tile", "trend", "bars", "top", "map", "alarms")
"""What a widget shows: dial gauge, KPI tile, trend plot, bar chart, top-N table, map view,
alarm summary."""
BAR_COUNTS = ("alarms", "incidents", "entities")
"""What a ``bars`` widget counts."""
BAR_GROUPS = ("domain", "district", "priority")
"""What a ``bars`` widget counts by."""
TOP_ORDERS = ("desc", "asc")
"""A ``top`` table's order: highest values first (desc) or lowest."""
MAP_LAYERS = ("entities", "districts", "geofences", "alarm_areas", "river")
"""The layers a ``map`` widget may show (a domain's name shows that domain's entities)."""
KIOSK_SPECIAL_PAGES = ("map", "alarms")
"""Kiosk pages that are not dashboards: the city map and the alarm summary."""
DEFAULT_COLUMNS = 4
MAX_COLUMNS = 24
MAX_ROWS = 48
MIN_WINDOW_S = 300.0
MAX_WINDOW_S = 86_400.0
"""A trend's window: 5 minutes to 24 hours."""
DEFAULT_WINDOW_S = 3600.0
MAX_TOP_N = 50
MIN_KIOSK_INTERVAL_S = 5.0
MAX_KIOSK_INTERVAL_S = 86_400.0
DEFAULT_KIOSK_INTERVAL_S = 30.0
DEFAULT_P1_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class SeriesRef:
    """One line of a trend: a KPI (``kpi``) or one entity's metric (``entity``, ``metric``)."""

    kpi: str = ""
    entity: str = ""
    metric: str = ""

    def __str__(self) -> str:
        return self.kpi or f"{self.entity}/{self.metric}"


@dataclass(frozen=True, slots=True)
class WidgetConfig:
    """One cell (or block of cells) of a dashboard; which settings count depends on ``kind``.

    ``problem`` is empty when the widget is fine; otherwise it names the key and what is
    wrong, and only ``kind``, the position and ``title`` may be trusted (``placed`` is False
    when even the position could not be read: show it below the grid).
    """

    kind: str
    row: int = 0
    column: int = 0
    row_span: int = 1
    column_span: int = 1
    title: str = ""
    kpi: str = ""
    """gauge, tile: the ``[[kpis]]`` name shown."""
    series: tuple[SeriesRef, ...] = ()
    """trend: the lines drawn."""
    window: float = DEFAULT_WINDOW_S
    """trend: seconds of history shown."""
    thresholds: tuple[float, ...] = ()
    """trend: values drawn as threshold lines."""
    count: str = ""
    """bars: what is counted (alarms, incidents, entities)."""
    by: str = ""
    """bars: what it is counted by (domain, district, priority)."""
    metric: str = ""
    """top: the metric ranked."""
    n: int = 5
    """top: how many rows."""
    order: str = TOP_ORDERS[0]
    group: Group = field(default_factory=Group)
    """top: the entities ranked; alarms: the entities whose alarms are summed up."""
    bounds: tuple[float, float, float, float] | None = None
    """map: [west, south, east, north] (None: the config's ``[map]`` view)."""
    layers: tuple[str, ...] = ()
    """map: the layers shown (empty: all)."""
    priority: int | None = None
    """alarms: show alarms of this priority or a more urgent one (None: every priority)."""
    problem: str = ""
    placed: bool = True

    def cells(self) -> set[tuple[int, int]]:
        """The (row, column) cells the widget covers."""
        return {
            (row, column)
            for row in range(self.row, self.row + self.row_span)
            for column in range(self.column, self.column + self.column_span)
        }


@dataclass(frozen=True, slots=True)
class DashboardConfig:
    """``[[dashboards]]``: a named grid of widgets, ``columns`` wide."""

    name: str
    columns: int = DEFAULT_COLUMNS
    widgets: tuple[WidgetConfig, ...] = ()

    @property
    def problems(self) -> tuple[str, ...]:
        """The problems of its widgets (empty: every widget is fine)."""
        return tuple(widget.problem for widget in self.widgets if widget.problem)


@dataclass(frozen=True, slots=True)
class KioskConfig:
    """``[kiosk]``: what a wall display rotates through, and how."""

    pages: tuple[str, ...] = ()
    """Dashboard names, or ``map`` / ``alarms`` (empty: no dashboards, the alarm summary)."""
    interval: float = DEFAULT_KIOSK_INTERVAL_S
    """Seconds each page shows."""
    screen: int = 0
    """The screen it fills (0: the first)."""
    p1_timeout: float = DEFAULT_P1_TIMEOUT_S
    """Seconds a new priority-1 alarm interrupts the rotation unless acknowledged sooner."""
    sound: bool = False


def read_group(reader: _Reader, districts: Collection[str]) -> Group:
    """The group filters of a ``[[kpis]]`` or ``top`` widget table (``districts``: the
    ``[[districts]]`` names); ConfigError naming the key otherwise."""
    domain = reader.choice("domain", DOMAINS, DOMAINS[0]) if "domain" in reader.table else ""
    district = reader.optional_text("district")
    if district and district not in districts:
        known = ", ".join(repr(name) for name in districts) or "none declared"
        raise reader.fail("district", f"no [[districts]] named {district!r} (known: {known})")
    return Group(
        domain=domain,
        type=reader.optional_text("type"),
        district=district,
        entities=reader.optional_text("entities"),
    )


def read_dashboards(
    root: _Reader, kpis: Collection[str], districts: Collection[str]
) -> tuple[DashboardConfig, ...]:
    """``[[dashboards]]``: widgets bound to the ``kpis`` named; a wrong widget becomes a
    problem, a wrong dashboard a ConfigError."""
    dashboards: list[DashboardConfig] = []
    for index, reader in enumerate(root.table_list("dashboards")):
        name = reader.text("name")
        if name in KIOSK_SPECIAL_PAGES:
            raise reader.fail("name", f"{name!r} is a kiosk page of its own; choose another")
        if name in (dashboard.name for dashboard in dashboards):
            raise reader.fail("name", f"{name!r} is used twice")
        columns = reader.integer("columns", DEFAULT_COLUMNS)
        if not 1 <= columns <= MAX_COLUMNS:
            raise reader.fail("columns", f"must be between 1 and {MAX_COLUMNS}, got {columns}")
        raw = reader._get("widgets", list, "a list of tables ([[dashboards.widgets]])")
        widgets: list[WidgetConfig] = []
        for number, item in enumerate(raw or []):
            key = f"{reader.key('widgets')}[{number}]"
            widget = _read_widget(root, item, key, columns, kpis=kpis, districts=districts)
            widgets.append(_unless_overlapping(widget, widgets, key))
        reader.reject_unknown()
        dashboard = DashboardConfig(name=name, columns=columns, widgets=tuple(widgets))
        for problem in dashboard.problems:
            log.warning("%s: dashboards[%d]: %s", root.source, index, problem)
        dashboards.append(dashboard)
    return tuple(dashboards)


def _unless_overlapping(
    widget: WidgetConfig, earlier: list[WidgetConfig], key: str
) -> WidgetConfig:
    """``widget``, or a problem when it covers a cell an earlier (placed) widget covers."""
    if not widget.placed:
        return widget
    cells = widget.cells()
    for number, other in enumerate(earlier):
        if other.placed and cells & other.cells():
            return _problem(widget, f"{key}.row: overlaps widgets[{number}] (cells are shared)")
    return widget


def _problem(widget: WidgetConfig, problem: str) -> WidgetConfig:
    """The widget's frame with nothing in it but ``problem``."""
    return WidgetConfig(
        kind=widget.kind,
        row=widget.row,
        column=widget.column,
        row_span=widget.row_span,
        column_span=widget.column_span,
        title=widget.title,
        problem=problem,
        placed=widget.placed,
    )


def _read_widget(
    root: _Reader,
    item: object,
    key: str,
    columns: int,
    *,
    kpis: Collection[str],
    districts: Collection[str],
) -> WidgetConfig:
    """One ``[[dashboards.widgets]]`` table; never raises: a wrong one carries its problem."""
    if not isinstance(item, dict):
        return WidgetConfig(
            kind="", problem=f"{key}: must be a table, got {type(item).__name__}", placed=False
        )
    reader = type(root)(root.source, item, key, root.base_dir)  # a _Reader (no import cycle)
    kind = item.get("kind") if item.get("kind") in WIDGET_KINDS else ""
    title = item.get("title") if isinstance(item.get("title"), str) else ""
    frame = WidgetConfig(kind=str(kind), title=str(title), placed=False)
    try:
        frame = _read_position(reader, columns, str(kind), str(title))
        return _read_contents(reader, frame, kpis, districts)
    except ConfigError as error:
        return _problem(frame, f"{error.key}: {error.problem}")


def _read_position(reader: _Reader, columns: int, kind: str, title: str) -> WidgetConfig:
    row, column = reader.integer("row", 0), reader.integer("column", 0)
    row_span, column_span = reader.integer("row_span", 1), reader.integer("column_span", 1)
    if not 0 <= row < MAX_ROWS:
        raise reader.fail("row", f"must be between 0 and {MAX_ROWS - 1}, got {row}")
    if not 0 <= column < columns:
        raise reader.fail(
            "column", f"must be between 0 and {columns - 1} (columns = {columns}), got {column}"
        )
    if not 1 <= row_span <= MAX_ROWS - row:
        raise reader.fail("row_span", f"must be between 1 and {MAX_ROWS - row}, got {row_span}")
    if not 1 <= column_span <= columns - column:
        raise reader.fail(
            "column_span",
            f"must be between 1 and {columns - column} to fit {columns} columns, got {column_span}",
        )
    return WidgetConfig(
        kind=kind,
        row=row,
        column=column,
        row_span=row_span,
        column_span=column_span,
        title=title,
    )


def _read_contents(
    reader: _Reader, frame: WidgetConfig, kpis: Collection[str], districts: Collection[str]
) -> WidgetConfig:
    """The kind's settings into ``frame`` (a placed widget); ConfigError when wrong."""
    kind = reader.choice("kind", WIDGET_KINDS, "") if "kind" in reader.table else ""
    if not kind:
        raise reader.fail("kind", f"is required: one of {', '.join(WIDGET_KINDS)}")
    reader.optional_text("title")
    settings: dict[str, Any] = {}
    if kind in ("gauge", "tile"):
        settings["kpi"] = _kpi_name(reader, kpis)
    elif kind == "trend":
        settings["series"] = _series(reader, kpis)
        settings["window"] = _window(reader)
        settings["thresholds"] = _numbers(reader, "thresholds")
    elif kind == "bars":
        count = reader.choice("count", BAR_COUNTS, "") if "count" in reader.table else ""
        if not count:
            raise reader.fail("count", f"is required: one of {', '.join(BAR_COUNTS)}")
        by = reader.choice("by", BAR_GROUPS, "") if "by" in reader.table else ""
        if not by:
            raise reader.fail("by", f"is required: one of {', '.join(BAR_GROUPS)}")
        if by == "priority" and count == "entities":
            raise reader.fail("by", "entities have no priority; count them by domain or district")
        if by == "district" and not districts:
            raise reader.fail("by", "no [[districts]] are declared to count by")
        settings.update(count=count, by=by)
    elif kind == "top":
        n = reader.integer("n", 5)
        if not 1 <= n <= MAX_TOP_N:
            raise reader.fail("n", f"must be between 1 and {MAX_TOP_N}, got {n}")
        settings.update(
            metric=reader.text("metric"),
            n=n,
            order=reader.choice("order", TOP_ORDERS, TOP_ORDERS[0]),
            group=read_group(reader, districts),
        )
    elif kind == "map":
        settings["bounds"] = _bounds(reader)
        layers = reader.text_list("layers")
        for layer in layers:
            if layer not in MAP_LAYERS and layer not in DOMAINS:
                raise reader.fail(
                    "layers",
                    f"{layer!r} is not a layer (one of {', '.join(MAP_LAYERS)}, or a domain)",
                )
        settings["layers"] = layers
    elif kind == "alarms":
        if "priority" in reader.table:
            priority = reader.integer("priority", 0)
            if priority not in PRIORITY_SEVERITY:
                raise reader.fail("priority", f"must be 1 (highest), 2, 3 or 4, got {priority}")
            settings["priority"] = priority
        settings["group"] = read_group(reader, districts)
    reader.reject_unknown()
    return WidgetConfig(
        kind=kind,
        row=frame.row,
        column=frame.column,
        row_span=frame.row_span,
        column_span=frame.column_span,
        title=frame.title,
        **settings,
    )


def _kpi_name(reader: _Reader, kpis: Collection[str]) -> str:
    name = reader.text("kpi")
    if name not in kpis:
        raise reader.fail("kpi", f"no [[kpis]] named {name!r}")
    return name


def _series(reader: _Reader, kpis: Collection[str]) -> tuple[SeriesRef, ...]:
    """``series``: KPI names or ``ENTITY/METRIC`` (split at the last ``/``)."""
    items = reader.text_list("series")
    if not items:
        raise reader.fail("series", "is required: KPI names or ENTITY/METRIC texts")
    series: list[SeriesRef] = []
    for item in items:
        if item in kpis:
            series.append(SeriesRef(kpi=item))
            continue
        entity, slash, metric = item.rpartition("/")
        if not (slash and entity.strip() and metric.strip()):
            raise reader.fail(
                "series", f"{item!r} is neither a [[kpis]] name nor an ENTITY/METRIC text"
            )
        series.append(SeriesRef(entity=entity, metric=metric))
    return tuple(series)


def _window(reader: _Reader) -> float:
    text = reader.optional_text("window")
    if not text:
        return DEFAULT_WINDOW_S
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise reader.fail("window", str(error)) from None
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        raise reader.fail("window", f"must be from 5m to 24h, got {text!r}")
    return seconds


def _numbers(reader: _Reader, name: str) -> tuple[float, ...]:
    value = reader._get(name, list, "a list of numbers")
    if value is None:
        return ()
    if not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value
    ):
        raise reader.fail(name, f"must be a list of finite numbers, got {value!r:.80}")
    return tuple(float(v) for v in value)


def _bounds(reader: _Reader) -> tuple[float, float, float, float] | None:
    """``bounds = [west, south, east, north]`` in degrees (longitude, latitude)."""
    if "bounds" not in reader.table:
        return None
    values = _numbers(reader, "bounds")
    if len(values) != 4:
        raise reader.fail(
            "bounds", f"must be [west, south, east, north], got {len(values)} numbers"
        )
    west, south, east, north = values
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise reader.fail(
            "bounds",
            "must be [west, south, east, north] with west < east (-180..180) and"
            f" south < north (-90..90), got {list(values)}",
        )
    return (west, south, east, north)


def read_kiosk(reader: _Reader | None, dashboards: Mapping[str, DashboardConfig]) -> KioskConfig:
    """``[kiosk]``; without ``pages`` it rotates every dashboard (the alarm summary when
    there are none). An unknown page is a ConfigError naming ``kiosk.pages``."""
    default_pages = tuple(dashboards) or ("alarms",)
    if reader is None:
        return KioskConfig(pages=default_pages)
    pages = reader.text_list("pages") if "pages" in reader.table else default_pages
    if not pages:
        raise reader.fail("pages", "must name at least one page")
    for page in pages:
        if page not in dashboards and page not in KIOSK_SPECIAL_PAGES:
            known = ", ".join(repr(name) for name in (*dashboards, *KIOSK_SPECIAL_PAGES))
            raise reader.fail("pages", f"no dashboard or page named {page!r} (known: {known})")
    interval = reader.number("interval", DEFAULT_KIOSK_INTERVAL_S)
    assert interval is not None
    if not MIN_KIOSK_INTERVAL_S <= interval <= MAX_KIOSK_INTERVAL_S:
        raise reader.fail(
            "interval",
            f"must be between {MIN_KIOSK_INTERVAL_S:g} and {MAX_KIOSK_INTERVAL_S:g} seconds,"
            f" got {interval:g}",
        )
    screen = reader.integer("screen", 0)
    if not 0 <= screen <= 63:
        raise reader.fail("screen", f"must be a screen number from 0, got {screen}")
    p1_timeout = reader.number("p1_timeout", DEFAULT_P1_TIMEOUT_S)
    assert p1_timeout is not None
    if not 0 < p1_timeout <= MAX_KIOSK_INTERVAL_S:
        raise reader.fail(
            "p1_timeout",
            f"must be more than 0 and at most {MAX_KIOSK_INTERVAL_S:g} seconds, got {p1_timeout:g}",
        )
    kiosk = KioskConfig(
        pages=pages,
        interval=interval,
        screen=screen,
        p1_timeout=p1_timeout,
        sound=reader.boolean("sound", False),
    )
    reader.reject_unknown()
    return kiosk
