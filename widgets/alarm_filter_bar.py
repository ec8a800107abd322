"""The alarm list's filter bar: priority, state, domain and text, saved presets, clear.

It only edits an :class:`widgets.alarm_model.AlarmFilter` and emits it; the list applies
it. Presets are names for filters: the bar keeps them and emits ``presetsChanged`` when
the operator saves or deletes one, so the application can store them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QToolButton,
    QWidget,
)

from services.model import AlarmState, Severity
from widgets.alarm_model import AlarmFilter
from widgets.i18n import translate
from widgets.terms import alarm_state_text, domain_text, severity_text

FILTERED_STATES = (
    AlarmState.UNACKNOWLEDGED,
    AlarmState.ACKNOWLEDGED,
    AlarmState.RTN_UNACKNOWLEDGED,
    AlarmState.SHELVED,
    AlarmState.SUPPRESSED,
    AlarmState.OUT_OF_SERVICE,
)


class AlarmFilterBar(QWidget):
    """Combo boxes for priority, state and domain, a text box, presets and a clear button."""

    filterChanged = Signal(object)
    """The new :class:`AlarmFilter`."""
    presetsChanged = Signal(dict)
    """Every preset (``dict[str, AlarmFilter]``) after one was saved or deleted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._presets: dict[str, AlarmFilter] = {}
        self._domains: list[str] = []
        self._quiet = False

        self.severity_box = QComboBox()
        self.severity_box.setObjectName("alarmFilterPriority")
        self.severity_box.setToolTip(translate("AlarmFilter", "Show alarms of this priority"))
        self.severity_box.addItem(translate("AlarmFilter", "Any priority"), None)
        for severity in sorted(Severity, reverse=True):
            self.severity_box.addItem(severity_text(severity), int(severity))

        self.state_box = QComboBox()
        self.state_box.setObjectName("alarmFilterState")
        self.state_box.setToolTip(translate("AlarmFilter", "Show alarms in this state"))
        self.state_box.addItem(translate("AlarmFilter", "Any state"), None)
        for state in FILTERED_STATES:
            self.state_box.addItem(alarm_state_text(state), state.value)

        self.domain_box = QComboBox()
        self.domain_box.setObjectName("alarmFilterDomain")
        self.domain_box.setToolTip(
            translate("AlarmFilter", "Show alarms whose source is in this domain")
        )
        self.domain_box.addItem(translate("AlarmFilter", "Any domain"), None)

        self.text_box = QLineEdit()
        self.text_box.setObjectName("alarmFilterText")
        self.text_box.setClearButtonEnabled(True)
        self.text_box.setPlaceholderText(translate("AlarmFilter", "Filter: name, id, metric…"))
        self.text_box.setToolTip(
            translate("AlarmFilter", "Show alarms whose source, metric or message has these words")
        )

        self.preset_box = QComboBox()
        self.preset_box.setObjectName("alarmFilterPresets")
        self.preset_box.setToolTip(translate("AlarmFilter", "Apply a saved filter"))
        self.save_button = QToolButton()
        self.save_button.setText(translate("AlarmFilter", "Save…"))
        self.save_button.setToolTip(translate("AlarmFilter", "Save this filter as a preset"))
        self.save_button.clicked.connect(self._ask_and_save)
        self.delete_button = QToolButton()
        self.delete_button.setText(translate("AlarmFilter", "Delete"))
        self.delete_button.setToolTip(translate("AlarmFilter", "Delete the chosen preset"))
        self.delete_button.clicked.connect(self._delete_chosen)
        self.clear_button = QToolButton()
        self.clear_button.setObjectName("alarmFilterClear")
        self.clear_button.setText(translate("AlarmFilter", "Clear"))
        self.clear_button.setToolTip(translate("AlarmFilter", "Show every alarm"))
        self.clear_button.clicked.connect(self.clear)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        controls: list[QWidget] = [self.severity_box, self.state_box, self.domain_box]
        controls += [self.text_box, self.preset_box, self.save_button, self.delete_button]
        for widget in [*controls, self.clear_button]:
            layout.addWidget(widget, 1 if widget is self.text_box else 0)

        for box in (self.severity_box, self.state_box, self.domain_box):
            box.currentIndexChanged.connect(self._changed)
        self.text_box.textChanged.connect(self._changed)
        self.preset_box.activated.connect(self._preset_chosen)
        self._fill_presets()

    # ------------------------------------------------------------------ public API

    def current(self) -> AlarmFilter:
        """The filter the controls say."""
        severity = self.severity_box.currentData()
        state = self.state_box.currentData()
        domain = self.domain_box.currentData()
        return AlarmFilter(
            frozenset({Severity(severity)}) if isinstance(severity, int) else frozenset(),
            frozenset({AlarmState(state)}) if isinstance(state, str) else frozenset(),
            frozenset({domain}) if isinstance(domain, str) else frozenset(),
            self.text_box.text(),
        )

    def set_filter(self, wanted: AlarmFilter) -> None:
        """Set the controls to ``wanted`` (one value per box: the first of each set)."""
        self._quiet = True
        try:
            severity = min(wanted.severities, default=None)
            state = min(wanted.states, default=None)
            self._choose(self.severity_box, None if severity is None else int(severity))
            self._choose(self.state_box, None if state is None else state.value)
            domain = min(wanted.domains, default=None)
            if domain is not None and domain not in self._domains:
                self.set_domains([*self._domains, domain])
            self._choose(self.domain_box, domain)
            self.text_box.setText(wanted.text)
        finally:
            self._quiet = False
        self._changed()

    def clear(self) -> None:
        """Show every alarm."""
        self.set_filter(AlarmFilter())

    def set_domains(self, domains: Iterable[str]) -> None:
        """The domains offered (the current choice is kept)."""
        wanted = sorted(set(domains))
        if wanted == self._domains:
            return
        chosen = self.domain_box.currentData()
        quiet, self._quiet = self._quiet, True
        try:
            self._domains = wanted
            while self.domain_box.count() > 1:
                self.domain_box.removeItem(1)
            for domain in wanted:
                self.domain_box.addItem(domain_text(domain), domain)
            self._choose(self.domain_box, chosen)
        finally:
            self._quiet = quiet

    def presets(self) -> dict[str, AlarmFilter]:
        """The saved presets by name."""
        return dict(self._presets)

    def set_presets(self, presets: Mapping[str, AlarmFilter]) -> None:
        """Offer these presets (no ``presetsChanged``: they come from storage)."""
        self._presets = dict(presets)
        self._fill_presets()

    def save_preset(self, name: str) -> None:
        """Keep the current filter as preset ``name`` (replacing one of that name)."""
        name = name.strip()
        if not name:
            return
        self._presets[name] = self.current()
        self._fill_presets()
        self.presetsChanged.emit(self.presets())

    def delete_preset(self, name: str) -> None:
        """Forget preset ``name``."""
        if self._presets.pop(name, None) is not None:
            self._fill_presets()
            self.presetsChanged.emit(self.presets())

    def apply_preset(self, name: str) -> bool:
        """Set the controls to preset ``name``; False when there is none."""
        preset = self._presets.get(name)
        if preset is None:
            return False
        self.set_filter(preset)
        return True

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _choose(box: QComboBox, value: object) -> None:
        index = box.findData(value) if value is not None else 0
        box.setCurrentIndex(max(index, 0))

    def _changed(self, *_args: object) -> None:
        if not self._quiet:
            self.filterChanged.emit(self.current())

    def _fill_presets(self) -> None:
        self.preset_box.clear()
        self.preset_box.addItem(translate("AlarmFilter", "Presets…"), None)
        for name in sorted(self._presets, key=str.casefold):
            self.preset_box.addItem(name, name)
        self.preset_box.setEnabled(bool(self._presets))
        self.delete_button.setEnabled(bool(self._presets))

    def _preset_chosen(self, index: int) -> None:
        name = self.preset_box.itemData(index)
        if isinstance(name, str):
            self.apply_preset(name)

    def _ask_and_save(self) -> None:
        name, accepted = QInputDialog.getText(
            self,
            translate("AlarmFilter", "Save filter preset"),
            translate("AlarmFilter", "Preset name:"),
        )
        if accepted:
            self.save_preset(name)

    def _delete_chosen(self) -> None:
        name = self.preset_box.currentData()
        if isinstance(name, str):
            self.delete_preset(name)
