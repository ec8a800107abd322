"""MQTT feeds: one paho-mqtt client per broker."""
