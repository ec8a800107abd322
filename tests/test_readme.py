"""The README stays true: its set-up commands and its payload examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.config import FeedConfig
from services.decoders import get_decoder

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
EXAMPLE_TOPICS = {
    "sensorthings": "v1.1/Datastreams(7)/Observations",
    "owntracks": "owntracks/driver/b7",
}


def payload_examples() -> list[tuple[str, str]]:
    section = README[README.index("## Payload formats") : README.index("## Alarms")]
    found = re.findall(
        r"\*\*`([a-z0-9-]+)`(?:, `([a-z0-9-]+)`)?\*\*.*?```(?:json|xml)\n(.*?)```", section, re.S
    )
    return [(name, body) for first, second, body in found for name in (first, second) if name]


def test_first_lines_give_the_two_setup_commands() -> None:
    first_block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line]
    assert commands == ["make run", "make test"]


@pytest.mark.parametrize(("format_name", "body"), payload_examples())
def test_payload_example_decodes(format_name: str, body: str) -> None:
    feed = FeedConfig(name="readme", topic="#", format=format_name)
    topic = EXAMPLE_TOPICS.get(format_name, "yiyang/example/station")
    decoded = get_decoder(format_name)(body.encode(), topic, feed, 1_795_300_000.0)
    assert decoded.readings or decoded.alarms


def test_every_format_has_an_example() -> None:
    assert {name for name, _body in payload_examples()} == {
        "json",
        "ngsi-v2",
        "ngsi-ld",
        "sensorthings",
        "senml",
        "cap",
        "owntracks",
    }
