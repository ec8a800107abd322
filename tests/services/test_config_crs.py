"""Data in GCJ-02: districts, geofences and feeds say their datum (``crs``), and the
config and the pipeline move their positions to WGS-84."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.config import AppConfig, ConfigError, FeedConfig, load_config
from services.geo.gcj02 import distance_m, gcj02_to_wgs84, wgs84_to_gcj02
from services.ingest.pipeline import IngestPipeline
from services.messages import RawMessage
from tests.helpers.paths import SHARED_INTEROP

OUTLINES = SHARED_INTEROP / "geo" / "yiyang-430900.geojson"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_gcj02_districts_from_the_shared_outlines_are_moved_to_wgs84(tmp_path: Path) -> None:
    if not OUTLINES.exists():
        pytest.skip(f"{OUTLINES} is not there")
    text = "".join(
        f'[[districts]]\nname = "{name}"\nfile = "{OUTLINES}"\nfeature = "{name}"\n{crs}'
        for name, crs in (("资阳区", 'crs = "gcj02"\n'), ("赫山区", ""))
    )
    moved, as_given = load_config(write(tmp_path, text)).districts
    source = json.loads(OUTLINES.read_text(encoding="utf-8"))
    first = next(f for f in source["features"] if f["properties"]["name"] == "资阳区")
    lon, lat = first["geometry"]["coordinates"][0][0][0]
    moved_lon, moved_lat = moved.polygons[0][0][0]
    assert 300 < distance_m((lat, lon), (moved_lat, moved_lon)) < 800
    assert (moved_lat, moved_lon) == pytest.approx(gcj02_to_wgs84(lat, lon), abs=1e-12)
    # Back in GCJ-02 it lies on the outline it came from (within a centimetre).
    assert distance_m((lat, lon), wgs84_to_gcj02(moved_lat, moved_lon)) < 0.01
    # Without crs the points are taken as given (WGS-84).
    second = next(f for f in source["features"] if f["properties"]["name"] == "赫山区")
    assert list(as_given.polygons[0][0][0]) == second["geometry"]["coordinates"][0][0][0]


def test_a_gcj02_geofence_and_a_wrong_crs(tmp_path: Path) -> None:
    square = "polygon = [[112.30, 28.50], [112.40, 28.50], [112.40, 28.60], [112.30, 28.60]]\n"
    (fence,) = load_config(
        write(tmp_path, f'[[geofences]]\nname = "depot"\n{square}crs = "gcj02"\n')
    ).geofences
    lon, lat = fence.polygons[0][0][0]
    assert (lat, lon) == pytest.approx(gcj02_to_wgs84(28.50, 112.30), abs=1e-12)
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, f'[[geofences]]\nname = "depot"\n{square}crs = "bd09"\n'))
    assert "c.toml" in str(caught.value) and "crs" in str(caught.value)
    assert "gcj02" in str(caught.value)


def test_a_gcj02_feed_is_read_in_wgs84(tmp_path: Path) -> None:
    text = (
        '[[brokers]]\nname = "b"\nurl = "mqtt://127.0.0.1:1883"\n'
        '[[feeds]]\nname = "taxis"\ntopic = "t/#"\ncrs = "gcj02"\n'
    )
    (feed,) = load_config(write(tmp_path, text)).feeds
    assert feed.crs == "gcj02"
    config = AppConfig(source="test", feeds=(FeedConfig(name="taxis", topic="t/#", crs="gcj02"),))
    pipeline = IngestPipeline(config, None)
    payload = {"id": "taxi-1", "lat": 28.5539, "lon": 112.3550, "speed": 30}
    pipeline.process_batch([RawMessage("taxis", "t/1", json.dumps(payload).encode(), 1.0)])
    entity = pipeline.take_delta().entities["taxi-1"]
    assert entity.lat is not None and entity.lon is not None
    assert (entity.lat, entity.lon) == pytest.approx(gcj02_to_wgs84(28.5539, 112.3550), abs=1e-12)
    pipeline.stop()


def test_a_gcj02_feeds_warning_areas_are_read_in_wgs84() -> None:
    cap = (
        Path(__file__).parents[1] / "fixtures" / "cap" / "yiyang-rainstorm-alert.xml"
    ).read_bytes()
    moved, as_given = (
        _areas(FeedConfig(name="cap", topic="c/#", format="cap", crs=crs), cap)
        for crs in ("gcj02", "wgs84")
    )
    lon, lat = as_given[0][0]
    assert (28.52 <= lat <= 28.62) and (112.30 <= lon <= 112.42)
    moved_lon, moved_lat = moved[0][0]
    assert (moved_lat, moved_lon) == pytest.approx(gcj02_to_wgs84(lat, lon), abs=1e-12)


def _areas(feed: FeedConfig, payload: bytes) -> list[list[list[float]]]:
    """The first area's outer ring of the alerts ``payload`` raised through ``feed``."""
    pipeline = IngestPipeline(AppConfig(source="test", feeds=(feed,)), None)
    pipeline.process_batch([RawMessage(feed.name, "c/1", payload, 1.0)])
    areas = [area for area in pipeline.take_delta().areas.values() if area is not None]
    pipeline.stop()
    feature = areas[0].geojson["features"][0]  # type: ignore[index]
    return [feature["geometry"]["coordinates"][0]]  # type: ignore[index]
