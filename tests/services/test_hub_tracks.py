"""The state hub's tracks of moving entities (the map's vehicle tracks)."""

from __future__ import annotations

from services.decoders.base import EntityUpdate
from services.ingest.hub import StateHub
from services.limits import MAX_TRACKED_ENTITIES, TRACK_POINTS, TRACK_SPACING_S


def move(hub: StateHub, entity_id: str, lat: float, lon: float, now: float) -> None:
    hub.apply_entities([EntityUpdate(entity_id, lat=lat, lon=lon)], "feed", "transport", now)


def test_only_moving_entities_have_tracks() -> None:
    hub = StateHub()
    for step in range(5):
        move(hub, "station", 28.5, 112.3, 1000.0 + 60 * step)
        move(hub, "bus", 28.5 + 0.001 * step, 112.3, 1000.0 + 60 * step)
    tracks = hub.tracks(since=0.0)
    assert list(tracks) == ["bus"]
    assert [round(p[1], 4) for p in tracks["bus"]] == [28.5, 28.501, 28.502, 28.503, 28.504]
    assert [p[0] for p in tracks["bus"]] == [1000.0, 1060.0, 1120.0, 1180.0, 1240.0]


def test_a_window_starts_at_the_position_held_then() -> None:
    hub = StateHub()
    for step in range(10):
        move(hub, "bus", 28.5 + 0.001 * step, 112.3, 1000.0 + 60 * step)
    recent = hub.tracks(since=1000.0 + 60 * 6 + 30)["bus"]
    assert [p[0] for p in recent] == [1360.0, 1420.0, 1480.0, 1540.0]
    # Nothing since: a bus that stood still for the whole window has no track shown.
    assert hub.tracks(since=5000.0) == {}


def test_close_updates_move_the_newest_point_and_length_is_bounded() -> None:
    hub = StateHub()
    move(hub, "bus", 28.5, 112.3, 1.0)
    move(hub, "bus", 28.6, 112.3, 1.0 + TRACK_SPACING_S)
    move(hub, "bus", 28.7, 112.3, 2.0 + TRACK_SPACING_S)  # too soon: replaces the newest
    points = hub.tracks(since=0.0)["bus"]
    assert [(p[0], p[1]) for p in points] == [(1.0, 28.5), (1.0 + TRACK_SPACING_S, 28.7)]
    for step in range(TRACK_POINTS * 2):
        move(hub, "bus", 28.0 + step * 1e-4, 112.3, 100.0 + step * TRACK_SPACING_S)
    assert len(hub.tracks(since=0.0)["bus"]) == TRACK_POINTS


def test_the_number_of_tracked_entities_is_bounded() -> None:
    hub = StateHub()
    for n in range(MAX_TRACKED_ENTITIES + 5):
        move(hub, f"v{n}", 28.5, 112.3, 0.0)
        move(hub, f"v{n}", 28.6, 112.3, 60.0)
    assert len(hub.tracks(since=0.0)) == MAX_TRACKED_ENTITIES


def test_entities_that_stopped_long_ago_make_room_for_new_movers() -> None:
    hub = StateHub()
    for n in range(MAX_TRACKED_ENTITIES):
        move(hub, f"old{n}", 28.5, 112.3, 0.0)
        move(hub, f"old{n}", 28.6, 112.3, 60.0)
    later = 60.0 + TRACK_POINTS * TRACK_SPACING_S + 1
    move(hub, "new", 28.5, 112.3, later)
    move(hub, "new", 28.6, 112.3, later + 60)
    tracks = hub.tracks(since=later - 1)
    assert list(tracks) == ["new"]  # the old ones stopped before the window
    assert len(hub.tracks(since=0.0)) == 1  # and made room


def test_the_points_written_or_moved_are_reported_for_storing() -> None:
    hub = StateHub()
    written: list[tuple[str, float, float, float]] = []

    def report(entity_id: str, lat: float, lon: float, now: float) -> None:
        hub.apply_entities(
            [EntityUpdate(entity_id, lat=lat, lon=lon)], "feed", "transport", now, positions=written
        )

    report("bus", 28.5, 112.3, 100.0)  # first seen: no track yet
    report("station", 28.4, 112.2, 100.0)
    report("station", 28.4, 112.2, 200.0)  # never moves: nothing to store
    assert written == []
    report("bus", 28.6, 112.3, 120.0)  # moves: the track's start and its new point
    report("bus", 28.7, 112.3, 121.0)  # too soon for a new point: the newest one moves
    assert written == [
        ("bus", 100.0, 28.5, 112.3),
        ("bus", 120.0, 28.6, 112.3),
        ("bus", 120.0, 28.7, 112.3),
    ]
    assert [tuple(p) for p in hub.tracks(since=0.0)["bus"]] == [
        (100.0, 28.5, 112.3),
        (120.0, 28.7, 112.3),
    ]


def test_restored_tracks_go_on_to_where_the_entity_is_known_to_be() -> None:
    hub = StateHub()
    move(hub, "bus", 28.9, 112.9, 500.0)  # known now (the restored entity)
    hub.restore_tracks({"bus": [(100.0, 28.5, 112.3), (110.0, 28.6, 112.3)]})
    assert hub.tracks(since=0.0)["bus"] == [
        (100.0, 28.5, 112.3),
        (110.0, 28.6, 112.3),
        (500.0, 28.9, 112.9),
    ]
    move(hub, "bus", 28.95, 112.9, 600.0)  # and on, live
    assert hub.tracks(since=0.0)["bus"][-1] == (600.0, 28.95, 112.9)


def test_restoring_more_tracks_than_are_kept_keeps_the_most_recently_moved() -> None:
    hub = StateHub()
    stored = {f"v{n}": [(float(n), 28.5, 112.3), (n + 1.0, 28.6, 112.3)] for n in range(1005)}
    hub.restore_tracks(stored)
    tracks = hub.tracks(since=0.0)
    assert len(tracks) == MAX_TRACKED_ENTITIES
    assert "v1004" in tracks and "v0" not in tracks
