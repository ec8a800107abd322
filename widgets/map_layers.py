"""The map's layer panel: which layers the map shows, a key to its marker shapes, and the
settings of the track and heat layers. It only says what is wanted (:attr:`changed`, the
whole setting as plain data, also what a saved layout keeps); the window draws it."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from widgets import palette
from widgets.i18n import translate
from widgets.map_symbols import SHAPE_FAMILIES, SHAPE_OUTLINES
from widgets.terms import domain_text

log = logging.getLogger(__name__)

LAYERS = ("alarmsOnly", "districts", "alertAreas", "geofences", "tracks", "heat")
"""The switchable layers besides the domains, by the name the map knows them by."""
DEFAULTS: dict[str, bool] = {
    "alarmsOnly": False,
    "districts": True,
    "alertAreas": True,
    "geofences": True,
    "tracks": False,
    "heat": False,
}
DEFAULT_TRACK_MINUTES = 15
MAX_TRACK_MINUTES = 60
DOMAIN_ROLE = Qt.ItemDataRole.UserRole


def _layer_titles() -> dict[str, str]:
    return {
        "alarmsOnly": translate("MapLayerPanel", "Only entities in alarm"),
        "districts": translate("MapLayerPanel", "District outlines"),
        "alertAreas": translate("MapLayerPanel", "Warning areas (CAP)"),
        "geofences": translate("MapLayerPanel", "Geofences"),
        "tracks": translate("MapLayerPanel", "Vehicle tracks"),
        "heat": translate("MapLayerPanel", "Heat of a measurement"),
    }


def shape_icon(shape: str, size: int = 18) -> QIcon:
    """A grey marker shape as the map draws a normal entity of that family."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 24, size / 24)
    painter.setPen(QPen(QColor(palette.MAP_PAGE_COLORS.get("marker-outline", "")), 1.5))
    painter.setBrush(QColor(palette.NORMAL_COLOR))
    outline = SHAPE_OUTLINES.get(shape)
    if outline is None:
        painter.drawEllipse(QRectF(2, 2, 20, 20))
    else:
        painter.drawPolygon(QPolygonF([QPointF(x, y) for x, y in outline]))
    painter.end()
    return QIcon(pixmap)


class MapLayerPanel(QWidget):
    """Check boxes per domain and per layer, the track length, the heat's measurement, and
    the key to the marker shapes."""

    changed = Signal(dict)
    """The whole setting (see :meth:`state`), after every change made here."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._restoring = False
        self._wanted_domains: dict[str, bool] = {}
        self._wanted_metric = ""
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setObjectName("mapLayerTree")
        self.entities_item = QTreeWidgetItem([translate("MapLayerPanel", "Entities by domain")])
        # Its partly-checked look is kept by _sync_parent; Qt's auto-tristate would tick the
        # domains one by one, each a change of the whole setting.
        self.entities_item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
        self.entities_item.setCheckState(0, Qt.CheckState.Checked)
        self.tree.addTopLevelItem(self.entities_item)
        self.layer_items: dict[str, QTreeWidgetItem] = {}
        for key, title in _layer_titles().items():
            item = QTreeWidgetItem([title])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, _check(DEFAULTS[key]))
            item.setData(0, DOMAIN_ROLE, key)
            self.tree.addTopLevelItem(item)
            self.layer_items[key] = item
        self.entities_item.setExpanded(True)
        self.tree.itemChanged.connect(self._on_item_changed)

        self.track_minutes = QSpinBox()
        self.track_minutes.setRange(1, MAX_TRACK_MINUTES)
        self.track_minutes.setValue(DEFAULT_TRACK_MINUTES)
        self.track_minutes.setSuffix(translate("MapLayerPanel", " min"))
        self.track_minutes.valueChanged.connect(self._emit)
        self.heat_metric = QComboBox()
        self.heat_metric.setObjectName("heatMetric")
        self.heat_metric.currentIndexChanged.connect(self._on_metric_chosen)
        settings = QFormLayout()
        settings.addRow(translate("MapLayerPanel", "Tracks of the last"), self.track_minutes)
        settings.addRow(translate("MapLayerPanel", "Heat of"), self.heat_metric)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setObjectName("mapLayerNote")

        legend = QGroupBox(translate("MapLayerPanel", "Key"))
        grid = QGridLayout(legend)
        for row, (shape, title) in enumerate(SHAPE_FAMILIES):
            icon = QLabel()
            icon.setPixmap(shape_icon(shape).pixmap(18, 18))
            entry = QHBoxLayout()
            entry.addWidget(icon)
            entry.addWidget(QLabel(translate("MapShapes", title)), 1)
            grid.addLayout(entry, row // 2, row % 2)
        hint = QLabel(
            translate(
                "MapLayerPanel",
                "Colour and number: the worst alarm's priority (1 most urgent); faded and "
                "dashed: no recent data; a pulsing ring: a priority-1 alarm not yet "
                "acknowledged.",
            )
        )
        hint.setWordWrap(True)
        grid.addWidget(hint, 3, 0, 1, 2)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addLayout(settings)
        layout.addWidget(self.note)
        layout.addWidget(legend)

    # -- public API ------------------------------------------------------------------------

    def set_domains(self, domains: Iterable[str]) -> None:
        """Offer a check box for each of these domains (new ones join, checked unless a
        restored setting said otherwise; none goes away)."""
        known = {child.data(0, DOMAIN_ROLE) for child in self._domain_items()}
        new = sorted(set(domains) - known)
        if not new:
            return
        self.tree.blockSignals(True)
        try:
            for domain in new:
                item = QTreeWidgetItem([domain_text(domain) or translate("MapLayerPanel", "other")])
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setData(0, DOMAIN_ROLE, domain)
                item.setCheckState(0, _check(self._wanted_domains.get(domain, True)))
                self.entities_item.addChild(item)
            self.entities_item.sortChildren(0, Qt.SortOrder.AscendingOrder)
        finally:
            self.tree.blockSignals(False)
        self._sync_parent()

    def set_heat_metrics(self, metrics: Iterable[str]) -> None:
        """The measurements the heat layer may show (the chosen one kept)."""
        wanted = sorted(set(metrics))
        current = [self.heat_metric.itemText(i) for i in range(self.heat_metric.count())]
        if wanted == current:
            return
        chosen = self._wanted_metric or self.heat_metric.currentText()
        self.heat_metric.blockSignals(True)
        try:
            self.heat_metric.clear()
            self.heat_metric.addItems(wanted)
            if chosen in wanted:
                self.heat_metric.setCurrentText(chosen)
        finally:
            self.heat_metric.blockSignals(False)
        if self.heat_metric.currentText() != chosen and not self._wanted_metric:
            self._emit()

    def set_note(self, text: str) -> None:
        """A line under the settings (why a layer is empty, for instance)."""
        self.note.setText(text)

    def state(self) -> dict[str, Any]:
        """``domains`` ({domain: shown}), each layer's switch, ``trackMinutes`` and
        ``heatMetric``: what the map shows and what a saved layout keeps."""
        domains = dict(self._wanted_domains)
        for child in self._domain_items():
            domains[str(child.data(0, DOMAIN_ROLE))] = child.checkState(0) == Qt.CheckState.Checked
        result: dict[str, Any] = {"domains": domains}
        for key, item in self.layer_items.items():
            result[key] = item.checkState(0) == Qt.CheckState.Checked
        result["trackMinutes"] = self.track_minutes.value()
        result["heatMetric"] = self.heat_metric.currentText() or self._wanted_metric
        return result

    def restore(self, state: Mapping[str, Any]) -> None:
        """Take a setting saved with :meth:`state` (unknown keys and wrong types ignored)."""
        self._restoring = True
        try:
            domains = state.get("domains")
            if isinstance(domains, Mapping):
                self._wanted_domains = {
                    str(k): v for k, v in domains.items() if isinstance(v, bool)
                }
                for child in self._domain_items():
                    shown = self._wanted_domains.get(str(child.data(0, DOMAIN_ROLE)), True)
                    child.setCheckState(0, _check(shown))
            for key, item in self.layer_items.items():
                value = state.get(key)
                if isinstance(value, bool):
                    item.setCheckState(0, _check(value))
            minutes = state.get("trackMinutes")
            if isinstance(minutes, int) and not isinstance(minutes, bool):
                self.track_minutes.setValue(minutes)
            metric = state.get("heatMetric")
            if isinstance(metric, str):
                self._wanted_metric = metric
                if self.heat_metric.findText(metric) >= 0:
                    self.heat_metric.setCurrentText(metric)
        finally:
            self._restoring = False
        self._sync_parent()
        self._emit()

    # -- internals -------------------------------------------------------------------------

    def _count(self) -> int:
        return self.entities_item.childCount()

    def _domain_items(self) -> list[QTreeWidgetItem]:
        return [
            child
            for i in range(self._count())
            if (child := self.entities_item.child(i)) is not None
        ]

    def _sync_parent(self) -> None:
        """The Entities box: checked, unchecked or partly, as its domains are."""
        count = self._count()
        if not count:
            return
        checked = sum(
            child.checkState(0) == Qt.CheckState.Checked for child in self._domain_items()
        )
        state = (
            Qt.CheckState.Checked
            if checked == count
            else Qt.CheckState.Unchecked
            if checked == 0
            else Qt.CheckState.PartiallyChecked
        )
        self.tree.blockSignals(True)
        self.entities_item.setCheckState(0, state)
        self.tree.blockSignals(False)

    def _on_item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        if item is self.entities_item:
            wanted = item.checkState(0)
            if wanted != Qt.CheckState.PartiallyChecked:
                self.tree.blockSignals(True)
                for child in self._domain_items():
                    child.setCheckState(0, wanted)
                self.tree.blockSignals(False)
        elif item.parent() is self.entities_item:
            domain = str(item.data(0, DOMAIN_ROLE))
            self._wanted_domains[domain] = item.checkState(0) == Qt.CheckState.Checked
            self._sync_parent()
        self._emit()

    def _on_metric_chosen(self) -> None:
        self._wanted_metric = self.heat_metric.currentText()
        self._emit()

    def _emit(self) -> None:
        if not self._restoring:
            self.changed.emit(self.state())


def _check(on: bool) -> Qt.CheckState:
    return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
