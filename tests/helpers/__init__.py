"""Helpers shared by tests in several folders, one module per subject.

- ``paths``: where the tests' own fixtures and the shared interop samples are;
- ``net``: free loopback ports, waiting for a listener;
- ``polling``: wait for a condition instead of sleeping for a guessed time;
- ``cli``: run the ``cityops`` command from this checkout;
- ``brokers``: real mosquitto brokers (plain, or with TLS, passwords, ACLs, websockets);
- ``tls``: a test CA and certificates made with ``openssl``;
- ``mqtt``: MQTT clients on the test side (recorders, subscribers, publishing);
- ``decoders``: the project's payload fixtures and feeds for calling decoders directly;
- ``demo``: the demo configuration and routing simulated messages to its feeds;
- ``e2e``: a live session and main window for end-to-end tests;
- ``ingest``: synthetic messages for the ingest pipeline (tests and benchmarks);
- ``abuse``: hostile, random and mutated payloads per format, publishing them and
  accounting for each (the abuse suite);
- ``tiles``: a local tile server; ``map_page``: reading a real map page.

Fixtures and hooks stay in ``conftest.py`` files; nothing imports from a ``conftest.py``.
"""
