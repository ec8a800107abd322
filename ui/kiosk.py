"""The wall display (``cityops --kiosk``): one frameless full-screen window on a chosen
screen, no menus and no cursor, rotating the ``[kiosk] pages`` (dashboards of the config and
the alarm summary) every ``interval`` seconds, with a NOT LIVE banner whenever the data
behind the wall is not live.

The workstation window still runs underneath, hidden: it owns the data (the delta bridge,
the KPI timer, freshness); the kiosk only shows it.

Not built yet (issue 12): the priority-1 interruption, the map page, leaving with a key
combination and supervisor credentials (today: stop the process), renderer restarts and
screen hot-plugging.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from services.config import AppConfig
from ui.dashboards import AlarmSummary, DashboardView, problem_frame
from widgets.i18n import translate
from widgets.palette import BANNER_COLORS

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)


class KioskWindow(QWidget):
    """The wall: pages rotating on their own, fed by ``window`` (hidden)."""

    def __init__(self, window: MainWindow, config: AppConfig) -> None:
        super().__init__()
        self.window_ = window
        self.config = config
        self.setWindowTitle(translate("Kiosk", "CityOps wall"))
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        self.setCursor(Qt.CursorShape.BlankCursor)
        background, text = BANNER_COLORS["alarm"]
        self.banner = QLabel()
        self.banner.setObjectName("kioskBanner")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setStyleSheet(
            f"background:{background};color:{text};font-weight:bold;padding:8px;"
        )
        self.banner.hide()
        self.pages = QStackedWidget()
        self.page_names: list[str] = []
        self.summary: AlarmSummary | None = None
        kpis = {kpi.name: kpi for kpi in config.kpis}
        dashboards = {dashboard.name: dashboard for dashboard in config.dashboards}
        names = list(config.kiosk.pages) or [d.name for d in config.dashboards] or ["alarms"]
        for name in names:
            if name in dashboards:
                view = DashboardView(dashboards[name], kpis)
                if window.dashboards is not None:
                    window.dashboards.add_view(f"kiosk:{name}", view)
                page: QWidget = view
            elif name == "alarms":
                self.summary = AlarmSummary(translate("Kiosk", "Active alarms"), None)
                page = self.summary
            else:
                page = problem_frame(
                    translate("Kiosk", "{page}: this page is not built yet").format(page=name)
                )
            self.pages.addWidget(page)
            self.page_names.append(name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.rotations = 0
        self._rotate = QTimer(self)
        self._rotate.setInterval(int(config.kiosk.interval * 1000))
        self._rotate.timeout.connect(self.next_page)
        window.kpisRefreshed.connect(self._refreshed)

    def start(self) -> None:
        """Full screen on the configured screen (the first when it is not there)."""
        screens = QGuiApplication.screens()
        wanted = self.config.kiosk.screen
        screen = screens[wanted] if 0 <= wanted < len(screens) else QGuiApplication.primaryScreen()
        if wanted >= len(screens):
            log.warning("kiosk: no screen %d (%d screens): on the first", wanted, len(screens))
        if screen is not None:
            self.setGeometry(screen.geometry())
        self.showFullScreen()
        self._rotate.start()
        log.info("kiosk: %d pages, every %g s", len(self.page_names), self.config.kiosk.interval)

    def page(self) -> str:
        """The name of the page showing."""
        return self.page_names[self.pages.currentIndex()]

    def next_page(self) -> None:
        """Show the next page of the playlist."""
        self.pages.setCurrentIndex((self.pages.currentIndex() + 1) % self.pages.count())
        self.rotations += 1

    def _refreshed(self, _values: object, _ts: float, _stale: bool) -> None:
        verdict = self.window_.freshness.verdict()
        text = verdict.banner()
        self.banner.setText(text or "")
        self.banner.setVisible(text is not None)
        if self.summary is not None:
            self.summary.show_alarms(self.window_.live_alarms())
