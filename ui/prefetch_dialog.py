"""The prefetch dialog: a named set of a base map's tiles over a box and zoom levels fetched
into the offline tile store, with the tile count and estimated size shown before it starts,
a progress bar, pause, resume, cancel and a retry of the tiles that failed.

The headless twin is ``cityops tiles prefetch`` (:mod:`ui.tile_commands`); both create the
set (or go on with the one of that name) and run :class:`~services.tiles.prefetch.Prefetcher`.
Here the run is a Python thread, ``cityops-prefetch``, that opens a :class:`TileStore` of its
own on the store's file (a store's connection belongs to one thread) and hands what happens
to the GUI thread only through a queued signal; progress is coalesced to at most ten signals
a second. Nothing in the dialog waits on the network on the GUI thread; closing it while a
run goes on cancels the run and waits briefly for its thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from services.config import BasemapConfig
from services.tiles.prefetch import (
    ESTIMATED_TILE_BYTES,
    PrefetchControl,
    Prefetcher,
    PrefetchProgress,
    default_set_name,
)
from services.tiles.store import TileSet, TileStore, TileStoreError
from services.tiles.xyz import BBox, count_tiles, format_bbox
from widgets.format import format_count, format_duration, format_number
from widgets.i18n import translate
from widgets.palette import current_theme
from widgets.plain_text import plain_label

log = logging.getLogger(__name__)

TILE_LIMIT = 200_000
"""The most tiles one set of the dialog may plan; above it Start is refused (the command
line, ``cityops tiles prefetch``, has no such limit)."""
THREAD_NAME = "cityops-prefetch"
PROGRESS_INTERVAL_S = 0.1
"""At most one progress signal to the GUI per interval (ten a second)."""
CLOCK_INTERVAL_MS = 500
"""How often the elapsed time is refreshed (and progress held back is sent) while running."""
CLOSE_WAIT_S = 2.0
"""How long closing the dialog waits for a cancelled run's thread to end."""
DEFAULT_ZOOMS = (10, 15)
"""The zoom levels offered first (within the base map's range)."""


def _progress_line(progress: PrefetchProgress | None, elapsed: float) -> str:
    """``stored/planned tiles, failed, MB, elapsed`` of a run."""
    if progress is None:
        return translate("PrefetchDialog", "Starting… {elapsed}").format(
            elapsed=format_duration(elapsed)
        )
    return translate(
        "PrefetchDialog", "{stored}/{planned} tiles, {failed} failed, {size} MB, {elapsed}"
    ).format(
        stored=format_count(progress.stored),
        planned=format_count(progress.planned),
        failed=format_count(progress.failed),
        size=_megabytes(progress.fetched_bytes),
        elapsed=format_duration(elapsed),
    )


def _shortened(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _megabytes(size: float) -> str:
    mb = size / 1e6
    return format_count(round(mb)) if mb >= 100 else format_number(mb, 1)


@dataclass(frozen=True, slots=True)
class PrefetchRequest:
    """What a run fetches: the set's name, base map, box and zoom levels."""

    name: str
    basemap: str
    box: BBox
    min_zoom: int
    max_zoom: int


@dataclass(frozen=True, slots=True)
class _Started:
    """The set was created, or found (``reused``): the run begins."""

    tile_set: TileSet
    reused: bool
    same: bool
    """The stored set has the request's base map, box and zooms."""


@dataclass(frozen=True, slots=True)
class _Ended:
    """The run's end: its result, or why there was none."""

    name: str | None
    """The set the run was about (None: it was never created or found)."""
    result: PrefetchProgress | None
    problem: str = ""
    """``store``, ``basemap``, ``too_big`` or ``crash`` when the run could not go on."""
    detail: str = ""
    last_failure: str = ""
    """One failed tile's error, when some failed."""
    basemap: str = ""


class _Emitter(QObject):
    """Carries ``(run id, event)`` from the prefetch thread to the GUI thread."""

    happened = Signal(object)


class ProgressCoalescer:
    """Progress from the prefetch thread: sent at once unless one was sent less than an
    interval ago; then held (only the newest) until the next one or :meth:`flush`."""

    def __init__(
        self,
        send: Callable[[PrefetchProgress], None],
        interval: float = PROGRESS_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last_sent = float("-inf")
        self._held: PrefetchProgress | None = None

    def put(self, progress: PrefetchProgress) -> None:
        """The prefetcher's progress callback (on the prefetch thread)."""
        with self._lock:
            self._held = progress
            self._send_due()

    def flush(self) -> None:
        """Send the progress held back if its interval has passed (from any thread)."""
        with self._lock:
            self._send_due()

    def drop(self) -> None:
        """Forget what is held (the run's end supersedes it)."""
        with self._lock:
            self._held = None

    def _send_due(self) -> None:
        now = self._clock()
        if self._held is not None and now - self._last_sent >= self._interval:
            # sent under the lock, so the GUI receives them in order (the signal is queued)
            self._send(self._held)
            self._held = None
            self._last_sent = now


class _PrefetchRun:
    """One prefetch of one set on its own thread; every event goes out through ``emitter``."""

    def __init__(
        self,
        run_id: int,
        request: PrefetchRequest,
        urls: Mapping[str, str],
        store_path: Path,
        emitter: _Emitter,
    ) -> None:
        self.run_id = run_id
        self.request = request
        self.control = PrefetchControl()
        self._urls = dict(urls)
        self._store_path = store_path
        self._emitter = emitter
        self.coalescer = ProgressCoalescer(self._send)
        self.thread = threading.Thread(target=self._work, name=THREAD_NAME, daemon=True)
        self._set_name: str | None = None
        """The set once it was created or found (the prefetch thread's)."""

    def start(self) -> None:
        self.thread.start()

    def _send(self, event: object) -> None:
        self._emitter.happened.emit((self.run_id, event))

    def _work(self) -> None:
        request = self.request
        try:
            store = TileStore(self._store_path)
        except TileStoreError as error:
            log.error("prefetch of %r: %s", request.name, error)
            self._send(_Ended(None, None, "store", str(error)))
            return
        except OSError as error:  # its folder cannot be made
            detail = f"cannot open the tile store {self._store_path}: {error.strerror or error}"
            log.error("prefetch of %r: %s", request.name, detail)
            self._send(_Ended(None, None, "store", detail))
            return
        session = requests.Session()
        ended = _Ended(None, None, "crash")
        try:
            ended = self._fetch(store, session)
        except Exception as error:  # the thread must always report its end
            log.exception("prefetch of %r failed", request.name)
            ended = _Ended(self._set_name, None, "crash", str(error) or type(error).__name__)
        finally:
            session.close()
            store.close()
            self.coalescer.drop()
            self._send(ended)

    def _fetch(self, store: TileStore, session: requests.Session) -> _Ended:
        request = self.request
        try:
            tile_set = store.create_set(
                request.name, request.basemap, request.box, request.min_zoom, request.max_zoom
            )
            reused = False
        except ValueError:
            tile_set = store.tile_set(request.name)
            reused = True
        name = self._set_name = tile_set.name
        url = self._urls.get(tile_set.basemap)
        if url is None:
            return _Ended(name, None, "basemap", basemap=tile_set.basemap)
        if tile_set.planned > TILE_LIMIT:
            return _Ended(name, None, "too_big", str(tile_set.planned))
        same = (tile_set.basemap, tile_set.box, tile_set.min_zoom, tile_set.max_zoom) == (
            request.basemap,
            request.box,
            request.min_zoom,
            request.max_zoom,
        )
        self._send(_Started(tile_set, reused, same))
        result = Prefetcher(store, url, session=session).run(name, self.control, self.coalescer.put)
        failures = store.failures(name)
        last = failures[-1][1] if failures else ""
        return _Ended(name, result, last_failure=last, basemap=tile_set.basemap)


class PrefetchDialog(QDialog):
    """Fetches a named set of a base map's tiles (a box over zoom levels) for offline use.

    ``basemaps``: the configured base maps (those read from a file are left out);
    ``store_path``: the tile store's file; ``view_bounds``: asked for the map's current view
    by *Use current view* (None: the button is disabled); ``pick_on_map`` lets the
    operator draw the box on the map (the caller hands the result to :meth:`set_box`).
    """

    setFinished = Signal(str)
    """A run ended (done, cancelled or with failures): the set's name."""

    def __init__(
        self,
        basemaps: Sequence[BasemapConfig],
        store_path: Path,
        view_bounds: Callable[[], BBox | None] | None = None,
        parent: QWidget | None = None,
        pick_on_map: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("prefetchDialog")
        self.setWindowTitle(translate("PrefetchDialog", "Prefetch map tiles"))
        self._basemaps = [basemap for basemap in basemaps if basemap.file is None]
        self._store_path = store_path
        self._view_bounds = view_bounds
        self._run: _PrefetchRun | None = None
        self._run_ids = itertools.count(1)
        self._retry_request: PrefetchRequest | None = None
        self._paused = False
        self._auto_name = ""
        self._started_at = 0.0
        self._shown: PrefetchProgress | None = None
        self._tile_set: TileSet | None = None
        """The set of the current or last run, as the store had it when the run began."""
        self._retrying = False
        self._notice = ""
        """What the run's start said about the set (kept above its result)."""
        self._emitter = _Emitter()
        self._emitter.happened.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_INTERVAL_MS)
        self._clock.timeout.connect(self._tick)

        self.basemap_box = QComboBox()
        for basemap in self._basemaps:
            self.basemap_box.addItem(basemap.name, basemap.name)
        self.name_edit = QLineEdit()
        self.west_box, self.south_box, self.east_box, self.north_box = (
            self._degree_box(180.0),
            self._degree_box(90.0),
            self._degree_box(180.0),
            self._degree_box(90.0),
        )
        self.view_button = QPushButton(translate("PrefetchDialog", "Use current &view"))
        self.view_button.setAutoDefault(False)
        self.view_button.setEnabled(view_bounds is not None)
        if view_bounds is None:
            self.view_button.setToolTip(translate("PrefetchDialog", "There is no map to ask."))
        self._pick_on_map = pick_on_map
        self.draw_button = QPushButton(translate("PrefetchDialog", "&Draw on the map"))
        self.draw_button.setAutoDefault(False)
        self.draw_button.setToolTip(
            translate(
                "PrefetchDialog",
                "Press, drag and release on the map to draw the area; Esc gives up.",
            )
        )
        self.draw_button.setVisible(pick_on_map is not None)
        if pick_on_map is not None:
            self.draw_button.clicked.connect(pick_on_map)
        self.zoom_from = QSpinBox()
        self.zoom_to = QSpinBox()
        self.estimate_label = plain_label()
        self.problem_label = plain_label()
        self.problem_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.status_label = plain_label()
        self.result_label = plain_label()
        self.result_label.setWordWrap(True)
        self.start_button = QPushButton(translate("PrefetchDialog", "&Start"))
        self.start_button.setDefault(True)
        self.pause_button = QPushButton(translate("PrefetchDialog", "&Pause"))
        self.cancel_button = QPushButton(translate("PrefetchDialog", "&Cancel"))
        self.retry_button = QPushButton(translate("PrefetchDialog", "&Retry failed"))
        self.close_button = QPushButton(translate("PrefetchDialog", "Close"))
        for button in (self.pause_button, self.cancel_button, self.close_button):
            button.setAutoDefault(False)
        self.retry_button.hide()
        self._lay_out()

        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.cancel_button.clicked.connect(self.cancel)
        self.retry_button.clicked.connect(self.retry_failed)
        self.close_button.clicked.connect(self.reject)
        self.view_button.clicked.connect(self.use_current_view)
        self.basemap_box.currentIndexChanged.connect(self._basemap_changed)
        for spin in (self.west_box, self.south_box, self.east_box, self.north_box):
            spin.valueChanged.connect(self._fields_changed)
        self.zoom_from.valueChanged.connect(self._fields_changed)
        self.zoom_to.valueChanged.connect(self._fields_changed)
        self.name_edit.textChanged.connect(self._update_state)

        self._basemap_changed(set_defaults=True)
        box = self._ask_view()
        if box is not None:
            self.set_box(box)
        self._fields_changed()

    # -- building ----------------------------------------------------------------------------

    def _degree_box(self, limit: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setDecimals(6)
        spin.setRange(-limit, limit)
        spin.setSingleStep(0.01)
        spin.setSuffix("\u00b0")
        spin.setKeyboardTracking(False)
        return spin

    def _lay_out(self) -> None:
        box_grid = QGridLayout()
        box_grid.setContentsMargins(0, 0, 0, 0)
        for row, column, text, spin in (
            (0, 0, translate("PrefetchDialog", "&West"), self.west_box),
            (0, 2, translate("PrefetchDialog", "&East"), self.east_box),
            (1, 0, translate("PrefetchDialog", "S&outh"), self.south_box),
            (1, 2, translate("PrefetchDialog", "&North"), self.north_box),
        ):
            label = QLabel(text)
            label.setBuddy(spin)
            box_grid.addWidget(label, row, column)
            box_grid.addWidget(spin, row, column + 1)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(self.view_button)
        buttons_row.addWidget(self.draw_button)
        buttons_row.addStretch(1)
        box_grid.addLayout(buttons_row, 2, 1, 1, 3)
        box_grid.setColumnStretch(1, 1)
        box_grid.setColumnStretch(3, 1)
        zooms = QHBoxLayout()
        zooms.addWidget(self.zoom_from)
        zooms.addWidget(QLabel(translate("PrefetchDialog", "to")))
        zooms.addWidget(self.zoom_to)
        zooms.addStretch(1)
        form = QFormLayout()
        form.addRow(translate("PrefetchDialog", "&Base map:"), self.basemap_box)
        form.addRow(translate("PrefetchDialog", "Set n&ame:"), self.name_edit)
        form.addRow(translate("PrefetchDialog", "Area (degrees):"), box_grid)
        zoom_label = QLabel(translate("PrefetchDialog", "&Zoom levels:"))
        zoom_label.setBuddy(self.zoom_from)
        form.addRow(zoom_label, zooms)
        form.addRow(translate("PrefetchDialog", "Estimate:"), self.estimate_label)
        form.addRow(self.problem_label)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.cancel_button):
            buttons.addWidget(button)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.result_label)
        layout.addSpacing(10)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.setMinimumWidth(560)

    # -- fields ------------------------------------------------------------------------------

    def _basemap(self) -> BasemapConfig | None:
        index = self.basemap_box.currentIndex()
        return self._basemaps[index] if 0 <= index < len(self._basemaps) else None

    def _basemap_changed(self, _index: int = 0, *, set_defaults: bool = False) -> None:
        basemap = self._basemap()
        low, high = (basemap.min_zoom, basemap.max_zoom) if basemap is not None else (0, 0)
        for spin in (self.zoom_from, self.zoom_to):
            spin.blockSignals(True)
            spin.setRange(low, high)
            spin.blockSignals(False)
        if set_defaults:
            self.zoom_from.blockSignals(True)
            self.zoom_to.blockSignals(True)
            self.zoom_from.setValue(min(max(DEFAULT_ZOOMS[0], low), high))
            self.zoom_to.setValue(min(max(DEFAULT_ZOOMS[1], low), high))
            self.zoom_from.blockSignals(False)
            self.zoom_to.blockSignals(False)
        self._fields_changed()

    def box(self) -> BBox | None:
        """The box as the fields give it (None when it is not a box)."""
        try:
            return BBox(
                self.west_box.value(),
                self.south_box.value(),
                self.east_box.value(),
                self.north_box.value(),
            )
        except ValueError:
            return None

    def set_box(self, box: BBox) -> None:
        """Fill the four corners from ``box`` (a rectangle drawn on the map, the view)."""
        for spin, value in (
            (self.west_box, box.west),
            (self.south_box, box.south),
            (self.east_box, box.east),
            (self.north_box, box.north),
        ):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self._fields_changed()

    def use_current_view(self) -> None:
        """Fill the box from the map's current view."""
        box = self._ask_view()
        if box is None:
            self._show_message(translate("PrefetchDialog", "The map shows no area yet."), warn=True)
            return
        self.set_box(box)

    def _ask_view(self) -> BBox | None:
        if self._view_bounds is None:
            return None
        try:
            return self._view_bounds()
        except Exception:  # the map's trouble must not break the dialog
            log.exception("the map's view could not be read")
            return None

    def set_name(self) -> str:
        """The name the set gets: as typed, else the default."""
        return self.name_edit.text().strip() or self._default_name()

    def _default_name(self) -> str:
        basemap, box = self._basemap(), self.box()
        if basemap is None or box is None:
            return ""
        return default_set_name(basemap.name, box, self.zoom_from.value(), self.zoom_to.value())

    def _fields_changed(self) -> None:
        default = self._default_name()
        if self.name_edit.text().strip() in ("", self._auto_name) and default:
            self.name_edit.setText(default)
        self._auto_name = default
        self.name_edit.setPlaceholderText(default)
        self._update_state()

    def _check(self) -> tuple[PrefetchRequest | None, int | None, str]:
        """The request the fields make, its tile count, and why it cannot start ("" if it
        can)."""
        basemap = self._basemap()
        if basemap is None:
            return (
                None,
                None,
                translate(
                    "PrefetchDialog",
                    "No base map with a tile server is configured: add one with an http(s) URL "
                    "under [[map.basemaps]] in the config.",
                ),
            )
        corners = (
            self.west_box.value(),
            self.south_box.value(),
            self.east_box.value(),
            self.north_box.value(),
        )
        if not any(corners):
            return (
                None,
                None,
                translate(
                    "PrefetchDialog",
                    "Choose the area: draw a rectangle on the map, use the current view or type "
                    "its corners.",
                ),
            )
        west, south, east, north = corners
        if west >= east:
            return None, None, translate("PrefetchDialog", "West must be less than east.")
        if south >= north:
            return None, None, translate("PrefetchDialog", "South must be less than north.")
        low, high = self.zoom_from.value(), self.zoom_to.value()
        if low > high:
            return (
                None,
                None,
                translate("PrefetchDialog", "The first zoom level must not be above the last."),
            )
        box = BBox(west, south, east, north)
        planned = count_tiles(box, low, high)
        request = PrefetchRequest(self.set_name(), basemap.name, box, low, high)
        if planned > TILE_LIMIT:
            return (
                request,
                planned,
                translate(
                    "PrefetchDialog",
                    "More than {limit} tiles: choose a smaller area or fewer zoom levels "
                    "(cityops tiles prefetch fetches bigger sets).",
                ).format(limit=format_count(TILE_LIMIT)),
            )
        return request, planned, ""

    def estimate(self) -> int | None:
        """How many tiles the fields plan (None when they make no set)."""
        return self._check()[1]

    def _update_state(self) -> None:
        _request, planned, problem = self._check()
        theme = current_theme()
        if planned is None:
            self.estimate_label.setText("\u2014")
        else:
            self.estimate_label.setText(
                translate("PrefetchDialog", "{tiles} tiles, about {size} MB").format(
                    tiles=format_count(planned), size=_megabytes(planned * ESTIMATED_TILE_BYTES)
                )
            )
        over = planned is not None and planned > TILE_LIMIT
        self.estimate_label.setStyleSheet(
            f"color:{theme.status_warning_text};font-weight:bold" if over else ""
        )
        self.problem_label.setText(problem)
        self.problem_label.setVisible(bool(problem))
        self._fit_height()
        self.problem_label.setStyleSheet(f"color:{theme.status_warning_text}" if problem else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        request, _planned, problem = self._check()
        startable = request is not None and not problem
        run = self._run
        running = run is not None
        cancelling = run is not None and run.control.cancelled
        for widget in (
            self.basemap_box,
            self.name_edit,
            self.west_box,
            self.south_box,
            self.east_box,
            self.north_box,
            self.zoom_from,
            self.zoom_to,
        ):
            widget.setEnabled(not running)
        self.view_button.setEnabled(not running and self._view_bounds is not None)
        self.draw_button.setEnabled(not running)
        self.start_button.setEnabled(startable and not running)
        self.pause_button.setEnabled(running and not cancelling)
        self.pause_button.setText(
            translate("PrefetchDialog", "&Resume")
            if self._paused
            else translate("PrefetchDialog", "&Pause")
        )
        self.cancel_button.setEnabled(running and not cancelling)
        self.retry_button.setVisible(self._retry_request is not None and not running)

    def _show_message(self, text: str, *, warn: bool = False, alarm: bool = False) -> None:
        """The line under the progress (a notice, the result or an error), coloured by how
        much it needs a look."""
        theme = current_theme()
        color = theme.status_alarm_text if alarm else theme.status_warning_text if warn else ""
        self.result_label.setStyleSheet(f"color:{color}" if color else "")
        self.result_label.setText(text)
        self.result_label.setVisible(bool(text))
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to show every line of the wrapped messages (a dialog sized for shorter
        text would squeeze the fields instead)."""
        layout = self.layout()
        if layout is None or not self.isVisible():
            return
        layout.activate()
        needed = (
            layout.totalHeightForWidth(self.width())
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if needed > self.height():
            self.resize(self.width(), needed)

    # -- running -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """A run was started and has not reported its end yet."""
        return self._run is not None

    def start(self) -> None:
        """Start fetching the set the fields describe (refused, with the reason shown, when
        they do not make one or it is too big)."""
        request, _planned, problem = self._check()
        if self._run is not None or request is None or problem:
            return
        self._begin(request)

    def retry_failed(self) -> None:
        """Run the last set again: what is still missing, the failed tiles included."""
        if self._run is None and self._retry_request is not None:
            self._begin(self._retry_request, retrying=True)

    def _begin(self, request: PrefetchRequest, *, retrying: bool = False) -> None:
        urls = {basemap.name: basemap.url for basemap in self._basemaps}
        run = _PrefetchRun(next(self._run_ids), request, urls, self._store_path, self._emitter)
        self._run, self._retry_request = run, None
        self._paused = False
        self._retrying = retrying
        self._notice = ""
        self._shown = None
        self._tile_set = None
        self._started_at = time.monotonic()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.status_label.setText(_progress_line(None, 0.0))
        self._show_message("")
        self._update_buttons()
        self.cancel_button.setFocus()
        log.info(
            "prefetch of %r (%s, zoom %d-%d) starting",
            request.name,
            request.basemap,
            request.min_zoom,
            request.max_zoom,
        )
        run.start()
        self._clock.start()

    def _toggle_pause(self) -> None:
        run = self._run
        if run is None or run.control.cancelled:
            return
        self._paused = not self._paused
        if self._paused:
            run.control.pause()
        else:
            run.control.resume()
        self._update_buttons()
        self._show_status()

    def pause(self) -> None:
        """Hold the running prefetch (tiles being fetched still arrive)."""
        if not self._paused:
            self._toggle_pause()

    def resume(self) -> None:
        """Go on with a paused prefetch."""
        if self._paused:
            self._toggle_pause()

    def cancel(self) -> None:
        """Stop the running prefetch; the tiles stored so far stay (starting the same set
        again goes on from there)."""
        run = self._run
        if run is None or run.control.cancelled:
            return
        run.control.cancel()
        self._paused = False
        self._update_buttons()
        self._show_status()

    def cancel_and_wait(self, timeout_s: float = CLOSE_WAIT_S) -> bool:
        """Cancel a running prefetch and wait up to ``timeout_s`` for its thread (tiles being
        fetched finish first); True when no thread is left running."""
        run = self._run
        if run is None:
            return True
        self.cancel()
        run.thread.join(timeout_s)
        if run.thread.is_alive():
            log.warning(
                "the prefetch of %r is still stopping (tiles in flight); it ends by itself",
                run.request.name,
            )
            return False
        return True

    def reject(self) -> None:
        """Esc, Close and the window's close box: a running prefetch is cancelled (waiting
        briefly for its thread), then the dialog closes."""
        self.cancel_and_wait()
        super().reject()

    def _tick(self) -> None:
        if self._run is not None:
            self._run.coalescer.flush()
        self._show_status()

    def _on_event(self, payload: object) -> None:
        run = self._run
        if not isinstance(payload, tuple) or run is None or payload[0] != run.run_id:
            return  # a run that ended already
        event = payload[1]
        if isinstance(event, PrefetchProgress):
            self._on_progress(event)
        elif isinstance(event, _Started):
            self._on_started(event)
        elif isinstance(event, _Ended):
            self._on_ended(run, event)

    def _on_started(self, started: _Started) -> None:
        tile_set = self._tile_set = started.tile_set
        self._shown = PrefetchProgress(tile_set.planned, tile_set.stored, 0, 0, 0.0)
        self._show_progress(self._shown)
        if self._retrying:
            self._notice = translate(
                "PrefetchDialog", "Fetching again the {missing} tiles {name} still misses."
            ).format(missing=format_count(tile_set.planned - tile_set.stored), name=tile_set.name)
            self._show_message(self._notice)
            return
        if not started.reused:
            return
        if started.same:
            self._notice = translate(
                "PrefetchDialog",
                "The set {name} exists already ({stored} of {planned} tiles stored): "
                "fetching what it still misses.",
            ).format(
                name=tile_set.name,
                stored=format_count(tile_set.stored),
                planned=format_count(tile_set.planned),
            )
        else:
            box = tile_set.box
            self._notice = translate(
                "PrefetchDialog",
                "The set {name} exists already for another area or zoom levels ({basemap}, "
                "{box}, zoom {low}-{high}): fetching what it still misses. Give this area "
                "another name to fetch it instead.",
            ).format(
                name=tile_set.name,
                basemap=tile_set.basemap,
                box=format_bbox(box),
                low=tile_set.min_zoom,
                high=tile_set.max_zoom,
            )
        self._show_message(self._notice, warn=not started.same)

    def _on_progress(self, progress: PrefetchProgress) -> None:
        shown = self._shown
        if shown is not None and progress.stored < shown.stored:
            return  # older than what is shown
        self._shown = progress
        self._show_progress(progress)

    def _show_progress(self, progress: PrefetchProgress) -> None:
        self.progress_bar.setRange(0, max(progress.planned, 1))
        self.progress_bar.setValue(
            min(progress.stored, progress.planned) if progress.planned else 1
        )
        self._show_status()

    def _show_status(self) -> None:
        run = self._run
        if run is None:
            return
        line = _progress_line(self._shown, time.monotonic() - self._started_at)
        if run.control.cancelled:
            template = translate(
                "PrefetchDialog", "Cancelling (tiles being fetched finish first): {line}"
            )
            line = template.format(line=line)
        elif self._paused:
            line = translate("PrefetchDialog", "Paused: {line}").format(line=line)
        self.status_label.setText(line)

    def _on_ended(self, run: _PrefetchRun, ended: _Ended) -> None:
        self._clock.stop()
        run.thread.join(1.0)  # it sent its last event and is returning
        self._run = None
        self._paused = False
        result = ended.result
        if result is not None:
            self._shown = result
            self._show_progress(result)
            self.status_label.setText(_progress_line(result, result.elapsed))
        self._show_end(run.request, ended)
        self._update_buttons()
        if self._retry_request is not None:
            self.retry_button.setDefault(True)
        else:
            self.start_button.setDefault(True)
        if ended.name is not None:
            self.setFinished.emit(ended.name)

    def _show_end(self, request: PrefetchRequest, ended: _Ended) -> None:
        result = ended.result
        if result is None:
            self._show_result(self._problem_text(request, ended), alarm=True)
            return
        numbers = {
            "name": ended.name or request.name,
            "stored": format_count(result.stored),
            "planned": format_count(result.planned),
            "failed": format_count(result.failed),
            "size": _megabytes(result.fetched_bytes),
            "elapsed": format_duration(result.elapsed),
            "error": _shortened(ended.last_failure),
        }
        tile_set = self._tile_set
        if result.failed and not result.cancelled and tile_set is not None:
            # the same set again, as stored, whatever the fields say now
            self._retry_request = PrefetchRequest(
                tile_set.name, tile_set.basemap, tile_set.box, tile_set.min_zoom, tile_set.max_zoom
            )
        if result.cancelled:
            text = translate(
                "PrefetchDialog",
                "Cancelled: {stored} of {planned} tiles of {name} stored. Start it again to go "
                "on from there.",
            )
            self._show_result(text.format(**numbers), warn=True)
        elif result.failed:
            text = translate(
                "PrefetchDialog",
                "{failed} tiles could not be fetched (for example: {error}); {stored} of "
                "{planned} tiles of {name} stored. Retry failed fetches them again.",
            )
            self._show_result(text.format(**numbers), alarm=True)
        elif result.stored >= result.planned:
            text = translate(
                "PrefetchDialog",
                "Done: all {planned} tiles of {name} stored, {size} MB fetched in {elapsed}.",
            )
            self._show_result(text.format(**numbers))
        else:
            text = translate("PrefetchDialog", "{stored} of {planned} tiles of {name} stored.")
            self._show_result(text.format(**numbers), warn=True)

    def _show_result(self, text: str, *, warn: bool = False, alarm: bool = False) -> None:
        if self._notice:
            text = f"{self._notice}\n{text}"
        self._show_message(text, warn=warn, alarm=alarm)

    def _problem_text(self, request: PrefetchRequest, ended: _Ended) -> str:
        if ended.problem == "store":
            return translate("PrefetchDialog", "Nothing was fetched: {error}").format(
                error=ended.detail
            )
        if ended.problem == "basemap":
            return translate(
                "PrefetchDialog",
                "The set {name} belongs to the base map {basemap}, which has no tile server "
                "in the config: nothing was fetched. Give this area another name.",
            ).format(name=ended.name or request.name, basemap=ended.basemap)
        if ended.problem == "too_big":
            return translate(
                "PrefetchDialog",
                "The set {name} exists already with {tiles} tiles, more than the {limit} this "
                "dialog fetches: use cityops tiles prefetch, or give this area another name.",
            ).format(
                name=ended.name or request.name,
                tiles=format_count(int(ended.detail or 0)),
                limit=format_count(TILE_LIMIT),
            )
        return translate("PrefetchDialog", "The prefetch stopped: {error}").format(
            error=ended.detail
        )
