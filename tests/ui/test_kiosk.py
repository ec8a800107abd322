"""The wall (``cityops --kiosk``): its pages rotating, a new priority-1 alarm interrupting
the rotation until acknowledged or timed out, the FEED DOWN / NOT LIVE banner, the map page
reloading after its renderer is killed, leaving only with a supervisor's sign-in, and what
the health endpoint says about it."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from services.auth.roles import Principal, Role
from services.auth.signin import Authenticator
from services.config import AppConfig, load_config
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from services.model import AlarmState, FeedHealth, FeedState
from services.monitoring import HealthCollector, HealthSnapshot
from services.store.cache import OfflineCache
from tests.helpers.accounts import PASSWORD, authenticator
from tests.ui.test_dashboards import CONFIG_TEXT
from ui.bridge import DeltaBridge
from ui.dashboards import DashboardControls
from ui.kiosk import INTERRUPTION_PAGE, KioskWindow
from ui.main_window import MainWindow

T0 = 1_800_000_000.0
LEVEL_RULE = """
[[rules]]
metric = "level"
high = 38
priority = 1
"""


@dataclass
class Wall:
    """A wall on a window fed by a real pipeline and cache."""

    config: AppConfig
    window: MainWindow
    wall: KioskWindow
    pipeline: IngestPipeline
    bridge: DeltaBridge
    clock: list[float]

    def send(self, entity: str, **values: float) -> None:
        payload = json.dumps({"id": entity, "ts": self.clock[0], **values}).encode()
        self.pipeline.process_batch([RawMessage("air", f"a/{entity}", payload, self.clock[0])])
        self.tick()

    def tick(self) -> None:
        """The bridge and the window's KPI timer tick once."""
        self.bridge.tick()
        self.window.update_freshness()
        self.window.refresh_kpis()


MakeWall = Callable[..., Wall]


def config_with(tmp_path: Path, kiosk: str) -> AppConfig:
    path = tmp_path / "city.toml"
    path.write_text(CONFIG_TEXT + LEVEL_RULE + "\n[kiosk]\n" + kiosk, encoding="utf-8")
    return load_config(path)


@pytest.fixture
def make_wall(qtbot: QtBot, tmp_path: Path, cache_dir: Path) -> Iterator[MakeWall]:
    made: list[tuple[IngestPipeline, OfflineCache]] = []

    def make(kiosk: str, authenticator: Authenticator | None = None) -> Wall:
        config = config_with(tmp_path, kiosk)
        cache = OfflineCache(cache_dir)
        pipeline = IngestPipeline(config, cache, flush_interval=0.0)
        made.append((pipeline, cache))
        window = MainWindow(
            config, acknowledge=lambda ids, note: pipeline.acknowledge(ids, principal, note)
        )
        principal = Principal("li.wei", Role.OPERATOR, "WS-2")
        qtbot.addWidget(window)
        bridge = DeltaBridge(pipeline.take_delta, parent=window)
        bridge.deltaReady.connect(window.apply_delta)
        window.dashboards = DashboardControls(window, config)
        clock = [T0]
        wall = KioskWindow(window, config, authenticator, clock=lambda: clock[0])
        qtbot.addWidget(wall)
        return Wall(config, window, wall, pipeline, bridge, clock)

    yield make
    for pipeline, cache in made:
        pipeline.stop()
        cache.close()


def test_the_kiosk_rotates_its_pages_and_says_when_it_is_not_live(make_wall: MakeWall) -> None:
    made = make_wall('pages = ["Air", "alarms"]\ninterval = 5\n')
    window, wall = made.window, made.wall
    assert wall.page_names == ["Air", "alarms"] and wall.page() == "Air"
    assert wall.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert wall.cursor().shape() is Qt.CursorShape.BlankCursor
    wall.next_page()
    assert wall.page() == "alarms" and wall.rotations == 1
    wall.next_page()
    assert wall.page() == "Air"  # round again
    window.refresh_kpis()  # nothing received yet: not live, and the wall says so
    assert wall.banner.isVisibleTo(wall) and (wall.banner.line("live") or "").startswith("NOT LIVE")
    assert (
        window.dashboards is not None and "kiosk:Air" in window.dashboards.pages
    )  # fed by the window's KPI timer


def test_a_feed_going_down_puts_feed_down_since_on_the_wall(make_wall: MakeWall) -> None:
    made = make_wall('pages = ["alarms"]\n')
    made.send("aq-1", pm25=20.0)
    made.window.freshness.feeds([FeedHealth("air", FeedState.CONNECTED)])
    made.tick()
    assert made.wall.banner.line("live") is None  # live: no banner
    made.window.freshness.feeds([FeedHealth("air", FeedState.DOWN)])
    made.tick()
    assert made.wall.banner.isVisibleTo(made.wall)
    assert (made.wall.banner.line("live") or "").startswith("FEED DOWN since ")
    assert "feed air down" in (made.wall.banner.line("live") or "")
    made.window.freshness.feeds([FeedHealth("air", FeedState.CONNECTED)])
    made.tick()
    assert not made.wall.banner.isVisibleTo(made.wall) and made.wall.banner.lines() == []


def test_a_new_priority_1_alarm_holds_the_wall_until_acknowledged(
    make_wall: MakeWall, qtbot: QtBot
) -> None:
    made = make_wall('pages = ["Air", "alarms"]\np1_timeout = 120\n')
    wall = made.wall
    made.send("river-1", level=40.0)  # already alarming when the wall first looks
    assert wall.page() == "Air" and not wall.interrupted()
    wall.next_page()
    made.send("river-2", level=39.5)  # new, priority 1: interrupts
    assert wall.interrupted() and wall.page() == INTERRUPTION_PAGE
    texts = wall.interruption.texts()
    assert texts[0].startswith("PRIORITY 1 ALARM") and "river-2" in texts[1]
    wall.next_page()  # the rotation is held
    assert wall.interrupted()
    made.send("aq-1", pm25=160.0)  # not priority 1: no change
    assert [line for line in wall.interruption.texts() if "aq-1" in line] == []

    (alarm,) = [a for a in made.window.live_alarms() if a.entity_id == "river-2"]
    made.pipeline.acknowledge([alarm.id], Principal("li.wei", Role.OPERATOR, "WS-2"), "")
    made.pipeline.process_batch([])

    def acknowledged() -> bool:
        made.tick()
        return any(
            a.entity_id == "river-2" and a.state is AlarmState.ACKNOWLEDGED
            for a in made.window.live_alarms()
        )

    qtbot.waitUntil(acknowledged, timeout=5000)
    made.tick()
    assert not wall.interrupted() and wall.page() == "alarms"  # back where it was


def test_a_priority_1_alarm_nobody_acknowledges_lets_go_after_the_timeout(
    make_wall: MakeWall,
) -> None:
    made = make_wall('pages = ["Air"]\np1_timeout = 60\n')
    made.tick()
    made.send("river-3", level=45.0)
    assert made.wall.interrupted()
    made.clock[0] += 59
    made.tick()
    assert made.wall.interrupted()
    made.clock[0] += 2
    made.tick()
    assert not made.wall.interrupted() and made.wall.page() == "Air"
    made.tick()  # still unacknowledged, but no longer new: it does not come back
    assert not made.wall.interrupted()


def test_the_map_page_reloads_when_its_renderer_is_killed(
    make_wall: MakeWall, qtbot: QtBot
) -> None:
    made = make_wall('pages = ["map", "alarms"]\n')
    view = made.window.map_view
    assert made.wall.pages.widget(0) is view  # the window's own map, moved onto the wall
    made.wall.show()
    qtbot.waitUntil(view.is_ready, timeout=30_000)
    pid = view.page().renderProcessPid()
    assert pid > 0
    with qtbot.waitSignal(view.pageReady, timeout=30_000):
        os.kill(pid, signal.SIGKILL)
    assert view.restarts == 1 and view.is_ready()
    assert view.page().renderProcessPid() not in (0, pid)
    sample = made.wall.sample()
    assert sample.webview_restarts == 1 and sample.showing == "map"

    registry = CollectorRegistry()
    collector = HealthCollector()
    registry.register(collector)
    made.wall.next_page()
    collector.publish(HealthSnapshot(0.0, 0.0, True, kiosk=made.wall.sample()))
    text = generate_latest(registry).decode()
    assert 'cityops_kiosk_page{page="alarms"} 1.0' in text
    assert 'cityops_kiosk_page{page="map"} 0.0' in text
    assert "cityops_kiosk_rotations_total 1.0" in text
    assert "cityops_webview_restarts_total 1.0" in text


def test_only_a_supervisor_signing_in_leaves_kiosk_mode(
    make_wall: MakeWall, qtbot: QtBot, tmp_path: Path
) -> None:
    auth, _clock = authenticator(
        tmp_path / "room", {"li.wei": Role.OPERATOR, "chen.jie": Role.SUPERVISOR}
    )
    made = make_wall('pages = ["map"]\n', authenticator=auth)
    wall, window = made.wall, made.window
    wall.show()
    for name, leaves in (("li.wei", False), ("chen.jie", True)):
        wall.ask_to_leave()
        dialog = wall.sign_in_dialog
        assert dialog is not None and dialog.isVisible()
        dialog.name_edit.setText(name)
        dialog.password_edit.setText(PASSWORD)
        assert dialog.attempt()
        assert wall.sign_in_dialog is None
        if not leaves:
            assert "may not leave" in (wall.banner.line("message") or "")
            assert wall.isVisible() and not window.isVisible()
    qtbot.waitUntil(lambda: not wall.isVisible())
    assert window.isVisible() and window.principal.user == "chen.jie"
    assert window.dock_panels.docks["map"].widget() is window.map_view  # back in its dock


def test_without_accounts_the_wall_says_how_to_leave(make_wall: MakeWall) -> None:
    made = make_wall('pages = ["alarms"]\n')
    made.wall.ask_to_leave()
    assert made.wall.sign_in_dialog is None
    assert "no accounts" in (made.wall.banner.line("message") or "")


def test_without_kpis_the_wall_still_ticks(qtbot: QtBot) -> None:
    config = AppConfig(source="test")
    window = MainWindow(config, acknowledge=lambda ids, note: None)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.kpisRefreshed, timeout=1000) as ticked:
        window.refresh_kpis()
    values, _ts, stale = ticked.args
    assert values == {} and stale  # nothing received: not live


def test_a_wall_without_its_screen_fills_the_first_and_is_placed_again_on_a_change(
    make_wall: MakeWall, qtbot: QtBot
) -> None:
    made = make_wall('pages = ["alarms"]\nscreen = 3\n')  # this machine has one screen
    wall = made.wall
    primary = QGuiApplication.primaryScreen()
    assert primary is not None and wall._wanted_screen() is None
    wall.start()
    assert wall.isFullScreen() or wall.geometry() == primary.geometry()
    placed: list[bool] = []
    wall.place = lambda: placed.append(True)  # type: ignore[method-assign]
    wall._screens_changed(primary)  # a screen plugged in or out: placed again, after Qt
    assert placed == []
    qtbot.waitUntil(lambda: placed == [True], timeout=1000)
