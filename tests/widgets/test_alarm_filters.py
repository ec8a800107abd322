"""Alarm list filters (priority, state, domain, text), presets and flashing rows."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from services.model import AlarmState, Severity
from tests.widgets.test_alarm_table import make_alarm, proxy_ids
from widgets.alarm_model import FLASH_MARKER, AlarmFilter, Column
from widgets.alarm_table import AlarmTableView


def filled_view(qtbot: QtBot) -> AlarmTableView:
    view = AlarmTableView()
    qtbot.addWidget(view)
    wide_ziyang = "\uff3a\uff29\uff39\uff21\uff2e\uff27"  # full-width upper-case ZIYANG
    view.model.set_entity_names({"s1": "Heshan Station", "s2": f"{wide_ziyang} Pump"})
    view.set_entity_domains({"s1": "environment", "s2": "water"})
    view.model.upsert(
        [
            make_alarm("s1", severity=Severity.HIGH),
            make_alarm("s2", severity=Severity.LOW, metric="level", state=AlarmState.ACKNOWLEDGED),
        ]
    )
    view.resort()
    return view


def test_each_filter_hides_and_shows_rows(qtbot: QtBot) -> None:
    view = filled_view(qtbot)
    bar = view.filter_bar
    assert len(proxy_ids(view)) == 2
    bar.severity_box.setCurrentIndex(bar.severity_box.findData(int(Severity.HIGH)))
    assert [i.split("|")[0] for i in proxy_ids(view)] == ["s1"]
    assert "1 hidden by the filter" in view.counts_text()
    bar.clear()
    assert len(proxy_ids(view)) == 2 and "hidden" not in view.counts_text()
    bar.state_box.setCurrentIndex(bar.state_box.findData(AlarmState.ACKNOWLEDGED.value))
    assert [i.split("|")[0] for i in proxy_ids(view)] == ["s2"]
    bar.clear()
    assert bar.domain_box.findData("water") > 0
    bar.domain_box.setCurrentIndex(bar.domain_box.findData("water"))
    assert [i.split("|")[0] for i in proxy_ids(view)] == ["s2"]
    bar.clear()
    bar.text_box.setText("ziyang")  # full-width and upper case in the name
    assert [i.split("|")[0] for i in proxy_ids(view)] == ["s2"]
    bar.text_box.setText("PM25")  # the metric
    assert [i.split("|")[0] for i in proxy_ids(view)] == ["s1"]
    bar.clear_button.click()
    assert len(proxy_ids(view)) == 2


def test_a_filtered_list_follows_state_changes(qtbot: QtBot) -> None:
    view = filled_view(qtbot)
    view.set_filter(AlarmFilter(states=frozenset({AlarmState.UNACKNOWLEDGED})))
    assert len(proxy_ids(view)) == 1
    view.model.upsert([make_alarm("s1", severity=Severity.HIGH, state=AlarmState.ACKNOWLEDGED)])
    view.resort()
    assert proxy_ids(view) == []
    assert "2 hidden by the filter" in view.counts_text()


def test_presets_round_trip(qtbot: QtBot) -> None:
    view = filled_view(qtbot)
    bar = view.filter_bar
    saved: list[dict[str, AlarmFilter]] = []
    bar.presetsChanged.connect(saved.append)
    bar.domain_box.setCurrentIndex(bar.domain_box.findData("water"))
    bar.text_box.setText("pump")
    bar.save_preset("Water pumps")
    wanted = saved[-1]["Water pumps"]
    assert wanted == AlarmFilter(domains=frozenset({"water"}), text="pump")
    assert AlarmFilter.from_dict(wanted.to_dict()) == wanted
    bar.clear()
    assert len(proxy_ids(view)) == 2
    other = AlarmTableView()
    qtbot.addWidget(other)
    other.filter_bar.set_presets(saved[-1])
    assert bar.apply_preset("Water pumps")
    assert view.filter == wanted and [i.split("|")[0] for i in proxy_ids(view)] == ["s2"]
    bar.delete_preset("Water pumps")
    assert saved[-1] == {}


def test_flashing_alternates_and_can_be_off(qtbot: QtBot) -> None:
    view = filled_view(qtbot)
    model = view.model
    view.set_flashing(True)
    assert view.flash_action.isChecked() and view.is_flashing()
    row = model.row_of(make_alarm("s1").id)
    assert row is not None
    index = model.index(row, Column.SEVERITY)
    phases = set()
    for _ in range(2):
        qtbot.waitUntil(lambda: (model.flash_on, str(index.data())) not in phases, timeout=2000)
        phases.add((model.flash_on, str(index.data())))
        bold = model.font(model.alarm_at(row), Column.SEVERITY).bold()
        assert bold == model.flash_on
    assert {text.startswith(FLASH_MARKER) for _on, text in phases} == {True, False}
    # The state column says it in words in both phases.
    assert model.index(row, Column.STATE).data() == "Unacknowledged"
    view.flash_action.setChecked(False)
    assert not view.is_flashing() and not model.flashing
    assert model.font(model.alarm_at(row), Column.SEVERITY).bold()
    assert not str(index.data()).startswith(FLASH_MARKER)
