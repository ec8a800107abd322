"""Words a config writes for people (its title, KPI names and units) in the chosen language.

A config is data, so its texts are shown as written, except those the translation knows:
the demo city's, marked here so that ``pyside6-lupdate`` collects them. A control room
with its own config writes its texts in its own language.
"""

from __future__ import annotations

from widgets.i18n import QT_TRANSLATE_NOOP, translate

CONTEXT = "Config"
DEMO_TEXTS = (
    QT_TRANSLATE_NOOP("Config", "Yiyang Integrated Command Platform"),
    QT_TRANSLATE_NOOP("Config", "Worst AQI"),
    QT_TRANSLATE_NOOP("Config", "Mean PM2.5"),
    QT_TRANSLATE_NOOP("Config", "Zi River peak level"),
    QT_TRANSLATE_NOOP("Config", "Mean road occupancy"),
    QT_TRANSLATE_NOOP("Config", "Worst bus delay"),
    QT_TRANSLATE_NOOP("Config", "Free parking"),
    QT_TRANSLATE_NOOP("Config", "Active incidents"),
    QT_TRANSLATE_NOOP("Config", "Longest clinic queue"),
    QT_TRANSLATE_NOOP("Config", "Fullest waste bin"),
    QT_TRANSLATE_NOOP("Config", "Mean PM2.5 over Heshan"),
    QT_TRANSLATE_NOOP("Config", "Mean PM2.5 over Ziyang"),
    QT_TRANSLATE_NOOP("Config", "Vehicles entering the city"),
    QT_TRANSLATE_NOOP("Config", "per minute"),
    QT_TRANSLATE_NOOP("Config", "Alarms by district"),
    QT_TRANSLATE_NOOP("Config", "Alarms by domain"),
    QT_TRANSLATE_NOOP("Config", "Busiest checkpoints"),
    QT_TRANSLATE_NOOP("Config", "City overview"),
    QT_TRANSLATE_NOOP("Config", "Environment"),
    QT_TRANSLATE_NOOP("Config", "Fullest pump sumps"),
    QT_TRANSLATE_NOOP("Config", "Most delayed buses"),
    QT_TRANSLATE_NOOP("Config", "PM2.5 by district"),
    QT_TRANSLATE_NOOP("Config", "Priority 1 and 2 alarms"),
    QT_TRANSLATE_NOOP("Config", "Traffic"),
    QT_TRANSLATE_NOOP("Config", "Water"),
    QT_TRANSLATE_NOOP("Config", "Water alarms"),
    QT_TRANSLATE_NOOP("Config", "Worst PM2.5 stations"),
    QT_TRANSLATE_NOOP("Config", "Yiyang"),
    QT_TRANSLATE_NOOP("Config", "Zi River levels"),
    QT_TRANSLATE_NOOP("Config", "spaces"),
    QT_TRANSLATE_NOOP("Config", "patients"),
)
"""The demo city's texts for people (resources/demo.toml)."""


def config_text(text: str) -> str:
    """A config's text for people: translated when the translation knows it, else as written."""
    return translate(CONTEXT, text) if text else text
