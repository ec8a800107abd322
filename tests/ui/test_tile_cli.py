"""``cityops tiles prefetch|list|delete`` against a local tile server started by the test;
``export`` and ``import`` between two cache folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.tiles.store import STORE_FILE, TileStore
from services.tiles.xyz import count_tiles, parse_bbox, tiles_in
from tests.helpers.tiles import TileServer, tile_body
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


def stored_set(cache_dir: Path, name: str, zooms: tuple[int, int]) -> int:
    """A set of the base map "Local" over BBOX with all its tiles, put in with the store's
    own methods; how many."""
    store = TileStore(cache_dir / STORE_FILE)
    try:
        store.create_set(name, "Local", parse_bbox(BBOX), *zooms)
        keys = list(tiles_in(parse_bbox(BBOX), *zooms))
        store.put_set_tiles(
            name,
            "Local",
            [(key, tile_body(f"/{key[0]}/{key[1]}/{key[2]}.png"), "image/png") for key in keys],
        )
    finally:
        store.close()
    return len(keys)


def test_export_then_import_in_another_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    city = str(config(tmp_path, "https://t.example/{z}/{x}/{y}.png"))
    one = ["--config", city, "--cache-dir", str(tmp_path / "one")]
    two = ["--config", city, "--cache-dir", str(tmp_path / "two")]
    count = stored_set(tmp_path / "one", "centre", (10, 12))
    file = tmp_path / "centre.mbtiles"

    assert main(["tiles", "export", *one, "centre", str(file)]) == 0
    out = capsys.readouterr().out
    assert f"exported the tile set 'centre' (Local) to {file}: {count:,} tiles" in out
    assert main(["tiles", "export", *one, "centre", str(file)]) == 1  # never over a file
    assert f"{file} exists already" in capsys.readouterr().err

    assert main(["tiles", "import", *two, str(file), "--name", "copy"]) == 0
    captured = capsys.readouterr()
    assert f"imported {file} as the tile set 'copy' (Local): {count:,} tiles" in captured.out
    assert f"{count:,}/{count:,} tiles of its box and zooms stored" in captured.out
    assert "note" not in captured.err  # "Local" is a base map of the config
    assert main(["tiles", "list", *two]) == 0
    assert f"copy  Local  112.3,28.5,112.42,28.62  zoom 10-12  {count}/{count} tiles" in (
        capsys.readouterr().out
    )

    assert main(["tiles", "import", *two, str(file), "--name", "copy"]) == 1
    assert "a tile set named 'copy' exists already" in capsys.readouterr().err
    assert main(["tiles", "import", *two, str(file)]) == 0  # named as the file says
    assert "as the tile set 'centre' (Local)" in capsys.readouterr().out
    assert main(["tiles", "import", *two, str(file), "--name", "x", "--basemap", "Other"]) == 0
    assert "no [[map.basemaps]] named 'Other'" in capsys.readouterr().err
    assert main(["tiles", "list", *two]) == 0
    listing = capsys.readouterr().out
    assert all(f"{name}  " in listing for name in ("centre", "copy", "x"))


def test_export_and_import_say_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    city = config(tmp_path, "https://t.example/{z}/{x}/{y}.png")
    where = ["--config", str(city), "--cache-dir", str(tmp_path)]
    stored_set(tmp_path, "centre", (11, 11))
    assert main(["tiles", "export", *where, "ghost", str(tmp_path / "g.mbtiles")]) == 1
    assert "no tile set named 'ghost'" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("no tiles here\n" * 10, encoding="utf-8")
    assert main(["tiles", "import", *where, str(text), "--basemap", "Local"]) == 1
    assert f"{text}: neither an MBTiles (SQLite) nor a PMTiles file" in capsys.readouterr().err
    assert main(["tiles", "import", *where, str(text), "--name", " "]) == 2
    assert "--name must not be empty" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("[broker\n", encoding="utf-8")
    assert (
        main(["tiles", "import", "--config", str(broken), "--cache-dir", str(tmp_path), str(text)])
        == 2
    )
    assert str(broken) in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["tiles", "export", *where, "centre"])  # no FILE
    assert exit_.value.code == 2
    assert main(["tiles", "list", *where]) == 0
    assert "centre  Local" in capsys.readouterr().out and not list(tmp_path.glob("*.mbtiles"))
