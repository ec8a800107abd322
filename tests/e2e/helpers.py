"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from services.broker_url import parse_broker_url

E2E_CONFIG = """
[app]
title = "E2E city"
operator = "e2e"
[broker]
url = "{url}"
[[feeds]]
name = "air"
topic = "yiyang/env/air/#"
format = "json"
domain = "environment"
[[rules]]
metric = "pm25"
high = 75
high_high = 150
[[kpis]]
name = "Mean PM2.5"
metric = "pm25"
min = 0
max = 250
"""


def publish(url: str, topic: str, payload: bytes) -> None:
    """Publish one message with QoS 1 and wait until the broker has it."""
    address = parse_broker_url(url)
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect(address.host, address.port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(5)
    finally:
        client.loop_stop()
        client.disconnect()
