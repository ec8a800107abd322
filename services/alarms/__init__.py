"""Alarm rules and the ISA-18.2 alarm store."""
