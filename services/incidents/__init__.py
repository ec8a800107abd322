"""Incidents: operator-opened records that group alarms, entities, notes and actions.

``book`` holds the incidents and their rules (owned by the ingest worker, no Qt, no I/O);
``payload`` turns a change into the dict shared with other workstations and merges a
received one.
"""
