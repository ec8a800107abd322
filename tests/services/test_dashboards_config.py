"""``[[dashboards]]`` and ``[kiosk]`` in the config: good widgets parse, a wrong widget
becomes a problem naming its key while its neighbours parse, wrong dashboards and kiosk
settings are config errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.config import ConfigError, load_config, load_demo_config
from services.config.dashboards import SeriesRef, WidgetConfig
from services.config.schema import AppConfig, Group
from services.timeutil import parse_duration

BASE = """
[[kpis]]
name = "Mean PM2.5"
metric = "pm25"
max = 250

[[kpis]]
name = "Worst AQI"
metric = "airQualityIndex"
aggregate = "max"
max = 300

[[districts]]
name = "Heshan"
polygon = [[112.30, 28.50], [112.40, 28.50], [112.40, 28.60], [112.30, 28.60]]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> AppConfig:
    return load_config(write(tmp_path, BASE + text))


def dashboard(*widgets: str, name: str = "Air", columns: int = 4) -> str:
    text = f'[[dashboards]]\nname = "{name}"\ncolumns = {columns}\n'
    return text + "".join(f"[[dashboards.widgets]]\n{widget}\n" for widget in widgets)


def widget_of(tmp_path: Path, body: str) -> WidgetConfig:
    """The one widget of a one-widget dashboard."""
    return load(tmp_path, dashboard(body)).dashboards[0].widgets[0]


def test_every_kind_parses(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        dashboard(
            'kind = "gauge"\nkpi = "Mean PM2.5"\nrow = 0\ncolumn = 0',
            'kind = "tile"\nkpi = "Worst AQI"\ntitle = "AQI"\nrow = 0\ncolumn = 1',
            'kind = "trend"\nseries = ["Mean PM2.5", "aq-01/pm25"]\nwindow = "30m"\n'
            "thresholds = [75, 150]\nrow = 0\ncolumn = 2\ncolumn_span = 2",
            'kind = "bars"\ncount = "alarms"\nby = "district"\nrow = 1\ncolumn = 0',
            'kind = "top"\nmetric = "pm25"\nn = 3\norder = "asc"\ndistrict = "Heshan"\n'
            'entities = "aq-*"\nrow = 1\ncolumn = 1',
            'kind = "map"\nbounds = [112.2, 28.4, 112.5, 28.7]\nlayers = ["entities", "water"]\n'
            "row = 1\ncolumn = 2\nrow_span = 2",
            'kind = "alarms"\npriority = 2\nrow = 1\ncolumn = 3',
        )
        + dashboard(name="Empty", columns=2),
    )
    air, empty = config.dashboards
    assert (air.name, air.columns, air.problems) == ("Air", 4, ())
    assert (empty.name, empty.columns, empty.widgets) == ("Empty", 2, ())
    gauge, tile, trend, bars, top, map_widget, alarms = air.widgets
    assert (gauge.kind, gauge.kpi, gauge.row_span) == ("gauge", "Mean PM2.5", 1)
    assert gauge.column_span == 1
    assert (tile.kpi, tile.title) == ("Worst AQI", "AQI")
    assert trend.series == (SeriesRef(kpi="Mean PM2.5"), SeriesRef(entity="aq-01", metric="pm25"))
    assert (trend.window, trend.thresholds, trend.column_span) == (1800.0, (75.0, 150.0), 2)
    assert (bars.count, bars.by) == ("alarms", "district")
    assert (top.metric, top.n, top.order) == ("pm25", 3, "asc")
    assert top.group == Group(district="Heshan", entities="aq-*")
    assert map_widget.bounds == (112.2, 28.4, 112.5, 28.7)
    assert (map_widget.layers, map_widget.row_span) == (("entities", "water"), 2)
    assert alarms.priority == 2
    assert all(widget.placed and not widget.problem for widget in air.widgets)


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ("row = 0", "kind", "is required"),
        ('kind = "pie"', "kind", "must be one of"),
        ('kind = "gauge"', "kpi", "is required"),
        ('kind = "tile"\nkpi = "Foo"', "kpi", "no [[kpis]] named 'Foo'"),
        ('kind = "trend"', "series", "is required"),
        ('kind = "trend"\nseries = ["pm25"]', "series", "neither"),
        ('kind = "trend"\nseries = ["Mean PM2.5"]\nwindow = "1m"', "window", "from 5m to 24h"),
        ('kind = "trend"\nseries = ["Mean PM2.5"]\nwindow = "2d"', "window", "from 5m to 24h"),
        ('kind = "trend"\nseries = ["Mean PM2.5"]\nwindow = "soon"', "window", "span of time"),
        ('kind = "trend"\nseries = ["Mean PM2.5"]\nthresholds = ["x"]', "thresholds", "numbers"),
        ('kind = "bars"\nby = "domain"', "count", "is required"),
        ('kind = "bars"\ncount = "alarms"', "by", "is required"),
        ('kind = "bars"\ncount = "entities"\nby = "priority"', "by", "no priority"),
        ('kind = "top"', "metric", "is required"),
        ('kind = "top"\nmetric = "pm25"\nn = 0', "n", "between 1"),
        ('kind = "top"\nmetric = "pm25"\norder = "up"', "order", "one of"),
        ('kind = "top"\nmetric = "pm25"\ndistrict = "Ziyang"', "district", "'Ziyang'"),
        ('kind = "map"\nbounds = [1, 2, 3]', "bounds", "west, south, east, north"),
        ('kind = "map"\nbounds = [112.5, 28.4, 112.2, 28.7]', "bounds", "west < east"),
        ('kind = "map"\nlayers = ["satellite"]', "layers", "'satellite'"),
        ('kind = "alarms"\npriority = 5', "priority", "1 (highest)"),
        ('kind = "alarms"\nkpi = "Mean PM2.5"', "kpi", "not a known setting"),
        ('kind = "gauge"\nkpi = "Mean PM2.5"\ncolumn = 4', "column", "between 0 and 3"),
        ('kind = "gauge"\nkpi = "Mean PM2.5"\ncolumn = 3\ncolumn_span = 2', "column_span", "fit"),
        ('kind = "gauge"\nkpi = "Mean PM2.5"\nrow = -1', "row", "between 0"),
    ],
)
def test_a_wrong_widget_becomes_a_problem_naming_its_key_while_its_neighbours_parse(
    tmp_path: Path, body: str, key: str, problem: str
) -> None:
    good = 'kind = "gauge"\nkpi = "Mean PM2.5"\nrow = 5\ncolumn = {column}'
    text = dashboard(good.format(column=0), good.format(column=1)) + dashboard(
        good.format(column=0), body, good.format(column=1), name="Second"
    )
    first, second = load(tmp_path, text).dashboards
    assert first.problems == ()
    before, wrong, after = second.widgets
    assert wrong.problem.startswith(f"dashboards[1].widgets[1].{key}: ")
    assert problem in wrong.problem
    assert (wrong.kpi, wrong.series, wrong.metric) == ("", (), "")
    assert second.problems == (wrong.problem,)
    assert (before.kpi, before.column, before.problem) == ("Mean PM2.5", 0, "")
    assert (after.kpi, after.column, after.problem) == ("Mean PM2.5", 1, "")


def test_a_wrong_widget_keeps_its_frame_when_its_position_is_good(tmp_path: Path) -> None:
    widget = widget_of(tmp_path, 'kind = "tile"\nkpi = "Foo"\ntitle = "F"\nrow = 2\ncolumn = 3')
    assert (widget.kind, widget.title, widget.row, widget.column, widget.placed) == (
        "tile",
        "F",
        2,
        3,
        True,
    )
    unplaced = widget_of(tmp_path, 'kind = "tile"\nkpi = "Mean PM2.5"\nrow = "top"')
    assert not unplaced.placed
    assert unplaced.problem.startswith("dashboards[0].widgets[0].row: must be a whole number")


def test_overlapping_widgets_make_the_later_one_a_problem(tmp_path: Path) -> None:
    text = dashboard(
        'kind = "map"\nrow = 0\ncolumn = 0\nrow_span = 2\ncolumn_span = 2',
        'kind = "gauge"\nkpi = "Mean PM2.5"\nrow = 1\ncolumn = 1',
        'kind = "gauge"\nkpi = "Mean PM2.5"\nrow = 1\ncolumn = 2',
    )
    map_widget, covered, beside = load(tmp_path, text).dashboards[0].widgets
    assert map_widget.problem == ""
    assert covered.problem == "dashboards[0].widgets[1].row: overlaps widgets[0] (cells are shared)"
    assert beside.problem == ""


def test_a_widget_that_is_not_a_table_is_a_problem(tmp_path: Path) -> None:
    text = '[[dashboards]]\nname = "Air"\nwidgets = ["gauge", {kind = "map"}]\n'
    wrong, good = load(tmp_path, text).dashboards[0].widgets
    assert wrong.problem.startswith("dashboards[0].widgets[0]: must be a table")
    assert not wrong.placed
    assert (good.kind, good.problem) == ("map", "")


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[[dashboards]]\ncolumns = 2\n", "dashboards[0].name", "is required"),
        (dashboard() + dashboard(), "dashboards[1].name", "used twice"),
        (dashboard(name="alarms"), "dashboards[0].name", "kiosk page"),
        (dashboard(columns=0), "dashboards[0].columns", "between 1"),
        ('[[dashboards]]\nname = "A"\nrows = 3\n', "dashboards[0].rows", "not a known setting"),
        ('[[dashboards]]\nname = "A"\nwidgets = "all"\n', "dashboards[0].widgets", "list"),
        (dashboard() + '[kiosk]\npages = ["Air", "Traffic"]\n', "kiosk.pages", "'Traffic'"),
        (dashboard() + "[kiosk]\npages = []\n", "kiosk.pages", "at least one"),
        (dashboard() + "[kiosk]\ninterval = 4\n", "kiosk.interval", "between 5"),
        (dashboard() + "[kiosk]\np1_timeout = 0\n", "kiosk.p1_timeout", "more than 0"),
        (dashboard() + "[kiosk]\nscreen = -1\n", "kiosk.screen", "screen number"),
        (dashboard() + '[kiosk]\nsound = "loud"\n', "kiosk.sound", "true or false"),
        (dashboard() + "[kiosk]\nfullscreen = true\n", "kiosk.fullscreen", "not a known"),
    ],
)
def test_dashboard_and_kiosk_errors_fail_the_config_naming_the_key(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(tmp_path / "c.toml") in str(caught.value)


def test_kiosk_settings_and_defaults(tmp_path: Path) -> None:
    text = dashboard() + dashboard(name="Water")
    assert load(tmp_path, "").kiosk.pages == ("alarms",)
    defaults = load(tmp_path, text).kiosk
    assert defaults.pages == ("Air", "Water")
    assert (defaults.interval, defaults.screen, defaults.p1_timeout, defaults.sound) == (
        30.0,
        0,
        300.0,
        False,
    )
    kiosk = load(
        tmp_path,
        text + '[kiosk]\npages = ["Water", "map", "alarms", "Air"]\ninterval = 5\nscreen = 1\n'
        "p1_timeout = 60\nsound = true\n",
    ).kiosk
    assert kiosk.pages == ("Water", "map", "alarms", "Air")
    assert (kiosk.interval, kiosk.screen, kiosk.p1_timeout, kiosk.sound) == (5.0, 1, 60.0, True)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300.0), ("90s", 90.0), ("1h30m", 5400.0), ("24 hours", 86_400.0), ("2d", 172_800.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m5", "5 parsecs", "0m", "-5m", "5m later"])
def test_wrong_durations(text: str) -> None:
    with pytest.raises(ValueError, match="span of time"):
        parse_duration(text)


def test_the_demo_ships_four_dashboards_without_problems_and_a_kiosk() -> None:
    config = load_demo_config()
    names = [dashboard.name for dashboard in config.dashboards]
    assert names == ["City overview", "Environment", "Traffic", "Water"]
    for dashboard in config.dashboards:
        assert dashboard.problems == ()
        assert dashboard.widgets
    assert config.kiosk.pages == (*names, "map", "alarms")
    assert {district.name for district in config.districts} >= {"Heshan", "Ziyang"}
    heshan = next(kpi for kpi in config.kpis if kpi.name == "Mean PM2.5 over Heshan")
    assert heshan.group == Group(district="Heshan")
    kpis = {kpi.name for kpi in config.kpis}
    bound = {w.kpi for d in config.dashboards for w in d.widgets if w.kpi}
    assert bound <= kpis
    assert "Mean PM2.5 over Heshan" in bound


def test_an_alarm_summary_may_be_limited_to_a_group(tmp_path: Path) -> None:
    widget = widget_of(tmp_path, 'kind = "alarms"\npriority = 2\ndomain = "water"')
    assert (widget.problem, widget.priority, widget.group.domain) == ("", 2, "water")
    wrong = widget_of(tmp_path, 'kind = "alarms"\ndomain = "sewage"')
    assert "domain" in wrong.problem
