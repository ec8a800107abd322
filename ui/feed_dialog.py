"""The Add feed dialog: a new MQTT subscription while the app runs."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from services.config import DOMAINS, FORMATS, ConfigError, FeedConfig, feed_from_table
from widgets.i18n import translate
from widgets.palette import STATUS_ALARM_TEXT_COLOR
from widgets.terms import domain_text


class AddFeedDialog(QDialog):
    """Asks for name, broker, topic filter, format, domain and QoS; validates like a config."""

    def __init__(self, broker_names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("AddFeedDialog", "Add MQTT feed"))
        self._broker_names = broker_names
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(translate("AddFeedDialog", "e.g. noise-east"))
        self.broker_box = QComboBox()
        self.broker_box.addItems(broker_names)
        self.topic_edit = QLineEdit()
        self.topic_edit.setPlaceholderText(translate("AddFeedDialog", "e.g. yiyang/env/noise/#"))
        self.format_box = QComboBox()
        self.format_box.addItems(FORMATS)
        self.domain_box = QComboBox()
        for domain in DOMAINS:  # shown in the chosen language, the config's word as data
            self.domain_box.addItem(domain_text(domain), domain)
        self.qos_box = QSpinBox()
        self.qos_box.setRange(0, 2)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color:{STATUS_ALARM_TEXT_COLOR}")
        form = QFormLayout(self)
        form.addRow(translate("AddFeedDialog", "&Name"), self.name_edit)
        form.addRow(translate("AddFeedDialog", "&Broker"), self.broker_box)
        form.addRow(translate("AddFeedDialog", "&Topic filter"), self.topic_edit)
        form.addRow(translate("AddFeedDialog", "&Format"), self.format_box)
        form.addRow(translate("AddFeedDialog", "&Domain"), self.domain_box)
        form.addRow(translate("AddFeedDialog", "&QoS"), self.qos_box)
        form.addRow(self.error_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.feed: FeedConfig | None = None

    def validated_feed(self) -> FeedConfig:
        """The feed described by the fields; ConfigError naming the field that is wrong."""
        table = {
            "name": self.name_edit.text().strip(),
            "broker": self.broker_box.currentText(),
            "topic": self.topic_edit.text().strip(),
            "format": self.format_box.currentText(),
            "domain": self.domain_box.currentData(),
            "qos": self.qos_box.value(),
        }
        return feed_from_table(table, self._broker_names)

    def accept(self) -> None:
        try:
            self.feed = self.validated_feed()
        except ConfigError as error:
            self.error_label.setText(f"{error.key}: {error.problem}")
            return
        super().accept()
