"""The wall display (``cityops --kiosk``): one frameless full-screen window on a chosen
screen, no menus and no cursor, rotating the ``[kiosk] pages`` (dashboards of the config,
the city map and the alarm summary) every ``interval`` seconds.

- A banner says FEED DOWN since hh:mm or NOT LIVE whenever the data behind the wall is not
  live (the window's freshness verdict).
- A new priority-1 alarm interrupts the rotation and stays on the wall until it is
  acknowledged at any workstation or ``[kiosk] p1_timeout`` passes (:mod:`ui.kiosk_alarm`).
- The wall leaves kiosk mode only with Ctrl+Alt+Shift+Q and a supervisor's sign-in; then the
  workstation window opens, the supervisor acting in it.
- When its screen goes away the wall moves to the first one, and back when it returns.
- The map page is the workstation window's own map (one web page and renderer, fed by the
  window), which reloads itself if its renderer crashes.

The workstation window runs underneath, hidden: it owns the data (the delta bridge, the KPI
timer, freshness, the feeds' reconnecting); the wall only shows it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence, QScreen, QShortcut
from PySide6.QtWidgets import QDialog, QStackedWidget, QVBoxLayout, QWidget

from services.auth.roles import Permission, Principal, allowed
from services.auth.signin import Authenticator
from services.config import AppConfig
from services.monitoring.snapshot import KioskSample
from ui.dashboards import DashboardView, problem_frame
from ui.i18n_terms import role_text
from ui.kiosk_alarm import InterruptionPage, PriorityOneWatch
from ui.sign_in import SignInDialog
from widgets.alarm_summary import AlarmSummary
from widgets.i18n import translate
from widgets.status_banner import BannerLevel, StatusBanner

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

LEAVE_SHORTCUT = "Ctrl+Alt+Shift+Q"
"""The key combination that asks for a supervisor's sign-in to leave kiosk mode."""
MESSAGE_MS = 15_000
"""How long a message about leaving kiosk mode stays on the wall."""
INTERRUPTION_PAGE = "priority-1"
LIVE_LINE, MESSAGE_LINE = "live", "message"
"""The banner's lines: FEED DOWN / NOT LIVE, and what the wall says about leaving."""
"""The page name reported while a priority-1 alarm holds the wall."""


class KioskWindow(QWidget):
    """The wall: pages rotating on their own, fed by ``window`` (hidden)."""

    def __init__(
        self,
        window: MainWindow,
        config: AppConfig,
        authenticator: Authenticator | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.window_ = window
        self.config = config
        self._authenticator = authenticator
        self._clock = clock
        self.setWindowTitle(translate("Kiosk", "CityOps wall"))
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.banner = StatusBanner()
        """FEED DOWN / NOT LIVE (``live``) and messages about leaving (``message``)."""
        self.pages = QStackedWidget()
        self.page_names: list[str] = []
        self.summary: AlarmSummary | None = None
        self._map_page = -1
        self._add_pages()
        self.interruption = InterruptionPage()
        self.pages.addWidget(self.interruption)  # not in the rotation
        self.watch = PriorityOneWatch(config.kiosk.p1_timeout)
        self._resume_at = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.rotations = 0
        self._rotate = QTimer(self)
        self._rotate.setInterval(int(config.kiosk.interval * 1000))
        self._rotate.timeout.connect(self.next_page)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.setInterval(MESSAGE_MS)
        self._message_timer.timeout.connect(lambda: self.banner.set_line(MESSAGE_LINE, None))
        self.sign_in_dialog: SignInDialog | None = None
        leave = QShortcut(QKeySequence(LEAVE_SHORTCUT), self)
        leave.setContext(Qt.ShortcutContext.ApplicationShortcut)
        leave.activated.connect(self.ask_to_leave)
        self._screen_name = ""
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.screenAdded.connect(self._screens_changed)
            app.screenRemoved.connect(self._screens_changed)
        window.kpisRefreshed.connect(self._refreshed)
        window.configChanged.connect(self.reload)
        window.configProblem.connect(self.say)

    def _add_pages(self) -> None:
        window, config = self.window_, self.config
        kpis = {kpi.name: kpi for kpi in config.kpis}
        dashboards = {dashboard.name: dashboard for dashboard in config.dashboards}
        names = list(config.kiosk.pages) or [d.name for d in config.dashboards] or ["alarms"]
        for name in names:
            if name in dashboards:
                view = DashboardView(dashboards[name], kpis, window=window)
                if window.dashboards is not None:
                    window.dashboards.add_view(f"kiosk:{name}", view)
                page: QWidget = view
            elif name == "alarms":
                self.summary = AlarmSummary(translate("Kiosk", "Active alarms"), None)
                page = self.summary
            elif name == "map" and self._map_page < 0:
                page = window.map_view  # the window's map, moved onto the wall
                self._map_page = len(self.page_names)
            else:
                page = problem_frame(
                    translate("Kiosk", "{page}: no such page (a dashboard, map or alarms)").format(
                        page=name
                    )
                )
            self.pages.insertWidget(len(self.page_names), page)  # before the interruption
            self.page_names.append(name)

    def reload(self, config: AppConfig) -> None:
        """The config file changed: the new playlist, interval and timeout (on the page of
        the same name, if there still is one)."""
        showing = self.page_names[self._resume_at] if self.interrupted() else self.page()
        self.config = config
        window = self.window_
        for index in reversed(range(len(self.page_names))):
            widget = self.pages.widget(index)
            if widget is None:
                continue
            self.pages.removeWidget(widget)
            if widget is window.map_view:
                self._return_map()
            else:
                if window.dashboards is not None:
                    window.dashboards.remove_view(f"kiosk:{self.page_names[index]}")
                widget.deleteLater()
        self.page_names, self.summary, self._map_page = [], None, -1
        self._add_pages()
        self._rotate.setInterval(int(config.kiosk.interval * 1000))
        self.watch.timeout = config.kiosk.p1_timeout
        again = self.page_names.index(showing) if showing in self.page_names else 0
        if self.interrupted():
            self._resume_at = again
        else:
            self.pages.setCurrentIndex(again)
        log.info("kiosk: reloaded, %d pages", len(self.page_names))

    def _return_map(self) -> None:
        """Give the window's map back to its dock (it left the wall)."""
        self.window_.dock_panels.docks["map"].setWidget(self.window_.map_view)
        self._map_page = -1

    # -- showing ---------------------------------------------------------------------------

    def start(self) -> None:
        """Full screen on the configured screen (the first when it is not there)."""
        screens = QGuiApplication.screens()
        wanted = self.config.kiosk.screen
        if not 0 <= wanted < len(screens):
            log.warning("kiosk: no screen %d (%d screens): on the first", wanted, len(screens))
        self.place()
        self._rotate.start()
        self._refreshed()
        log.info("kiosk: %d pages, every %g s", len(self.page_names), self.config.kiosk.interval)

    def place(self) -> None:
        """Fill the wanted screen if it is there, else the first one."""
        screen = self._wanted_screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        handle = self.windowHandle()
        if handle is not None:
            handle.setScreen(screen)
        self.setGeometry(screen.geometry())
        self.showFullScreen()
        log.info("kiosk: on screen %s %s", screen.name(), screen.geometry().getRect())

    def _wanted_screen(self) -> QScreen | None:
        """The configured screen: the one it was on when it is there (by name), else the
        one at ``[kiosk] screen`` (which may have been off when the wall started)."""
        screens = QGuiApplication.screens()
        for screen in screens:
            if self._screen_name and screen.name() == self._screen_name:
                return screen
        wanted = self.config.kiosk.screen
        if 0 <= wanted < len(screens):
            self._screen_name = screens[wanted].name()
            return screens[wanted]
        return None

    def _screens_changed(self, screen: QScreen) -> None:
        """A screen came or went: go back to ours if it is there, else to the first."""
        log.info("kiosk: screen %s plugged in or out; placing the wall again", screen.name())
        QTimer.singleShot(0, self, self.place)  # after Qt has moved windows off a gone screen

    def page(self) -> str:
        """The name of the page showing."""
        index = self.pages.currentIndex()
        if index >= len(self.page_names):
            return INTERRUPTION_PAGE
        return self.page_names[index]

    def interrupted(self) -> bool:
        """Whether a priority-1 alarm holds the wall."""
        return self.pages.currentWidget() is self.interruption

    def next_page(self) -> None:
        """Show the next page of the playlist."""
        if self.interrupted():
            return
        self.pages.setCurrentIndex((self.pages.currentIndex() + 1) % len(self.page_names))
        self.rotations += 1
        self.window_.refresh_kpis()  # the page now showing is drawn at once

    def sample(self) -> KioskSample:
        """What the wall shows now, for the health endpoint."""
        maps = [self.window_.map_view]
        for index in range(len(self.page_names)):
            page = self.pages.widget(index)
            if isinstance(page, DashboardView):
                maps.extend(page.maps)
        return KioskSample(
            tuple(self.page_names),
            self.page(),
            self.rotations,
            sum(view.restarts for view in maps),
        )

    def _refreshed(self, *_args: object) -> None:
        """The window's KPI timer ticked (once a second): banner, alarms, interruption."""
        window = self.window_
        self.banner.set_line(LIVE_LINE, window.freshness.verdict().wall_banner())
        alarms = window.live_alarms()
        if self.summary is not None:
            self.summary.show_alarms(alarms, window.entity_name)
        interrupting = self.watch.update(alarms, self._clock())
        if interrupting:
            self.interruption.show_alarms(interrupting, window.entity_name, self.watch.timeout)
            if not self.interrupted():
                self._resume_at = self.pages.currentIndex()
                self.pages.setCurrentWidget(self.interruption)
                self._rotate.stop()
        elif self.interrupted():
            self.pages.setCurrentIndex(self._resume_at)
            self._rotate.start()

    # -- leaving ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        """Show ``text`` on the wall for a while (about leaving kiosk mode)."""
        self.banner.set_line(MESSAGE_LINE, text, BannerLevel.WARNING)
        self._message_timer.start()

    def ask_to_leave(self) -> None:
        """The leave combination: ask for a supervisor's sign-in."""
        if self._authenticator is None:
            self.say(
                translate(
                    "Kiosk",
                    "Leaving kiosk mode needs a supervisor's sign-in, and this workstation has "
                    "no accounts (add one with: cityops users add NAME --role supervisor). "
                    "Stop the program to leave.",
                )
            )
            return
        if self.sign_in_dialog is not None:
            self.sign_in_dialog.raise_()
            return
        dialog = SignInDialog(self._authenticator, self)
        dialog.intro_label.setText(
            translate("Kiosk", "A supervisor signs in to leave kiosk mode on this wall.")
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setCursor(Qt.CursorShape.ArrowCursor)
        dialog.finished.connect(self._signed_in)
        self.sign_in_dialog = dialog
        dialog.open()

    def _signed_in(self, result: int) -> None:
        dialog, self.sign_in_dialog = self.sign_in_dialog, None
        if result != QDialog.DialogCode.Accepted or dialog is None or dialog.principal is None:
            return
        self.leave(dialog.principal)

    def leave(self, principal: Principal) -> bool:
        """Leave kiosk mode for ``principal`` when they may (a supervisor): the workstation
        window opens with them acting; otherwise the wall says why not."""
        if not allowed(principal.role, Permission.LEAVE_KIOSK):
            self.say(
                translate(
                    "Kiosk", "{user} ({role}) may not leave kiosk mode: a supervisor must."
                ).format(user=principal.user, role=role_text(principal.role))
            )
            log.warning("kiosk: %s (%s) may not leave kiosk mode", principal.user, principal.role)
            return False
        log.info("kiosk: %s leaves kiosk mode", principal.user)
        self._rotate.stop()
        window = self.window_
        if self.pages.indexOf(window.map_view) >= 0:
            self.pages.removeWidget(window.map_view)
            self._return_map()
        window.set_principal(principal)
        window.show()
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.close()
        return True
