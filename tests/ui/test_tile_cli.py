"""``cityops tiles prefetch|list|delete`` against a local tile server started by the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.tiles.xyz import count_tiles, parse_bbox
from tests.helpers.tiles import TileServer
from ui.app import main

BBOX = "112.30,28.50,112.42,28.62"


def config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "city.toml"
    path.write_text(
        f"""
[broker]
url = "mqtt://127.0.0.1:1883"

[[feeds]]
name = "air"
topic = "a/#"

[[map.basemaps]]
name = "Local"
url = "{url}"
max_zoom = 16
""",
        encoding="utf-8",
    )
    return path


def test_prefetch_list_and_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = TileServer()
    try:
        where = ["--config", str(config(tmp_path, server.url)), "--cache-dir", str(tmp_path)]
        planned = count_tiles(parse_bbox(BBOX), 10, 13)
        code = main(
            [
                "tiles",
                "prefetch",
                *where,
                "--basemap",
                "Local",
                "--bbox",
                BBOX,
                "--zoom",
                "10-13",
                "--name",
                "centre",
            ]
        )
        out = capsys.readouterr().out
        assert code == 0
        assert f"centre: {planned:,} tiles, about" in out  # the estimate, before starting
        assert f"{planned:,} of {planned:,} tiles stored, 0 failed" in out
        assert len(server.requests) == planned
        assert main(["tiles", "list", *where]) == 0
        assert f"centre  Local  112.3,28.5,112.42,28.62  zoom 10-13  {planned}/{planned} tiles" in (
            capsys.readouterr().out
        )
        assert main(["tiles", "delete", *where, "centre"]) == 0
        assert main(["tiles", "list", *where]) == 0
        assert "no tile sets" in capsys.readouterr().out
    finally:
        server.stop()


def test_wrong_arguments_say_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = [
        "--config",
        str(config(tmp_path, "https://t.example/{z}/{x}/{y}.png")),
        "--cache-dir",
        str(tmp_path),
    ]
    for extra, words in (
        (["--basemap", "Nope", "--bbox", BBOX, "--zoom", "10-12"], "no base map 'Nope'"),
        (["--basemap", "Local", "--bbox", "1,2,3", "--zoom", "10-12"], "four numbers"),
        (["--basemap", "Local", "--bbox", BBOX, "--zoom", "12-10"], "zoom levels"),
        (["--basemap", "Local", "--bbox", BBOX, "--zoom", "15-18"], "has zooms 0-16"),
    ):
        assert main(["tiles", "prefetch", *where, *extra]) == 2
        assert words in capsys.readouterr().err
    assert main(["tiles", "delete", *where, "ghost"]) == 1
    assert "no tile set named 'ghost'" in capsys.readouterr().err
