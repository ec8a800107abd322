"""Operator actions shared between workstations through the MQTT broker."""
