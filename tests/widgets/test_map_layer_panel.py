"""The map's layer panel: domain boxes and the Entities box, layer switches, track length and
heat measurement, its setting as plain data and back, and the key's shapes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from widgets.map_layers import MapLayerPanel, shape_icon
from widgets.map_symbols import SHAPE_FAMILIES


def make_panel(qtbot: QtBot) -> tuple[MapLayerPanel, list[dict[str, Any]]]:
    panel = MapLayerPanel()
    qtbot.addWidget(panel)
    seen: list[dict[str, Any]] = []
    panel.changed.connect(seen.append)
    return panel, seen


def domain_item(panel: MapLayerPanel, domain: str) -> Any:
    for i in range(panel.entities_item.childCount()):
        child = panel.entities_item.child(i)
        if child.data(0, Qt.ItemDataRole.UserRole) == domain:
            return child
    raise AssertionError(f"no box for {domain}")


def test_domains_join_checked_and_the_entities_box_follows_them(qtbot: QtBot) -> None:
    panel, seen = make_panel(qtbot)
    panel.set_domains(["water", "environment"])
    panel.set_domains(["water", "transport"])  # a known one is not added twice
    assert panel.entities_item.childCount() == 3
    assert panel.state()["domains"] == {"environment": True, "transport": True, "water": True}
    domain_item(panel, "water").setCheckState(0, Qt.CheckState.Unchecked)
    assert seen[-1]["domains"]["water"] is False
    assert panel.entities_item.checkState(0) == Qt.CheckState.PartiallyChecked
    before = len(seen)
    panel.entities_item.setCheckState(0, Qt.CheckState.Checked)
    assert len(seen) == before + 1  # one change for the whole box, not one per domain
    assert all(seen[-1]["domains"].values())
    panel.entities_item.setCheckState(0, Qt.CheckState.Unchecked)
    assert not any(panel.state()["domains"].values())


def test_the_setting_round_trips_and_bad_values_are_ignored(qtbot: QtBot) -> None:
    panel, seen = make_panel(qtbot)
    panel.set_heat_metrics(["pm25", "aqi"])
    seen.clear()
    panel.restore(
        {
            "domains": {"water": False, "bad": "yes"},
            "heat": True,
            "heatMetric": "pm25",
            "trackMinutes": 40,
            "tracks": "on",  # wrong type: kept as it was
            "unknown": 1,
        }
    )
    assert len(seen) == 1  # one change for the restore
    state = panel.state()
    assert state["domains"] == {"water": False}
    assert (state["heat"], state["heatMetric"], state["trackMinutes"]) == (True, "pm25", 40)
    assert state["tracks"] is False
    panel.set_domains(["water"])  # a restored choice holds for a domain heard of later
    assert domain_item(panel, "water").checkState(0) == Qt.CheckState.Unchecked
    panel.set_heat_metrics(["no2", "pm25"])  # the choice is kept when the list changes
    assert panel.heat_metric.currentText() == "pm25"
    other, _ = make_panel(qtbot)
    other.set_heat_metrics(["pm25", "aqi"])
    other.restore(state)
    assert other.state() == state


def test_the_key_draws_each_family_its_own_shape(qtbot: QtBot) -> None:
    images = [shape_icon(shape, 24).pixmap(24, 24).toImage() for shape, _ in SHAPE_FAMILIES]
    painted = [
        tuple(
            QImage.pixelColor(image, x, y).alpha() > 128
            for x in range(0, 24, 3)
            for y in range(0, 24, 3)
        )
        for image in images
    ]
    assert len(set(painted)) == len(SHAPE_FAMILIES)
