"""Where moving entities were: the stored track points (table ``positions``), read for the
map's vehicle tracks after a restart and in a replay, and for the places of moving entities
at a replayed moment."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import replace

from services.model import Entity, TrackPoint

_MOVED_ENTITIES = (
    "WITH RECURSIVE moved(id) AS (SELECT min(entity_id) FROM positions UNION ALL"
    " SELECT (SELECT min(entity_id) FROM positions WHERE entity_id > moved.id) FROM moved"
    " WHERE moved.id IS NOT NULL) SELECT id FROM moved WHERE id IS NOT NULL"
)
"""Every entity with a stored point, one index seek each (not a scan of every point)."""


def read_tracks(
    conn: sqlite3.Connection, since: float, until: float
) -> dict[str, list[TrackPoint]]:
    """The points from ``since`` to ``until`` per entity, oldest first, each track with its
    last point before ``since`` (where its entity was when the window began); entities
    ordered by their newest point, the most recently moved last. Entities that did not move
    in the window are left out.

    Read entity by entity along the primary key (a range each): 1,000 vehicles' last 15
    minutes in about 0.1 s, where one pass over the time index took 0.4 s."""
    tracks: list[tuple[str, list[TrackPoint]]] = []
    for (entity_id,) in conn.execute(_MOVED_ENTITIES).fetchall():
        points: list[TrackPoint] = conn.execute(
            "SELECT ts, lat, lon FROM positions WHERE entity_id = ?1 AND ts <= ?3 AND ts >="
            " coalesce((SELECT max(ts) FROM positions WHERE entity_id = ?1 AND ts < ?2), ?2)"
            " ORDER BY ts",
            (entity_id, since, until),
        ).fetchall()
        if points and points[-1][0] >= since:
            tracks.append((entity_id, points))
    tracks.sort(key=lambda track: track[1][-1][0])
    return dict(tracks)


def places_at(conn: sqlite3.Connection, at: float) -> dict[str, tuple[float, float]]:
    """Where each entity with stored points was at ``at``: (lat, lon) of its last point at
    or before it (entities with none by then are left out)."""
    places: dict[str, tuple[float, float]] = {}
    for (entity_id,) in conn.execute(_MOVED_ENTITIES).fetchall():
        row = conn.execute(
            "SELECT lat, lon FROM positions WHERE entity_id = ? AND ts <= ?"
            " ORDER BY ts DESC LIMIT 1",
            (entity_id, at),
        ).fetchone()
        if row is not None:
            places[entity_id] = (row[0], row[1])
    return places


def placed(
    entities: Mapping[str, Entity], places: Mapping[str, tuple[float, float]]
) -> dict[str, Entity]:
    """``entities`` with those ``places`` names moved there (copies: the given entities are
    left as they are)."""
    moved = dict(entities)
    for entity_id, (lat, lon) in places.items():
        entity = moved.get(entity_id)
        if entity is not None and (entity.lat, entity.lon) != (lat, lon):
            moved[entity_id] = replace(entity, lat=lat, lon=lon)
    return moved


def trim_oldest(conn: sqlite3.Connection, span: float, chunk: int) -> int:
    """Delete up to ``chunk`` points of the oldest ``span`` seconds (for the disk budget);
    returns how many were deleted."""
    (oldest,) = conn.execute("SELECT min(ts) FROM positions").fetchone()
    if oldest is None:
        return 0
    return conn.execute(
        "DELETE FROM positions WHERE (entity_id, ts) IN"
        " (SELECT entity_id, ts FROM positions WHERE ts < ? LIMIT ?)",
        (oldest + span, chunk),
    ).rowcount


def prune(conn: sqlite3.Connection, cutoff: float, chunk: int) -> int:
    """Delete up to ``chunk`` points older than ``cutoff``; returns how many."""
    return conn.execute(
        "DELETE FROM positions WHERE (entity_id, ts) IN"
        " (SELECT entity_id, ts FROM positions WHERE ts < ? LIMIT ?)",
        (cutoff, chunk),
    ).rowcount
