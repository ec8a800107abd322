"""CityOps services: everything behind the window, in pure Python (no Qt).

One subpackage per subsystem; the shared vocabulary sits at this level:

- ``model``: entities, readings, alarms, feed health, deltas (the types every layer shares);
- ``messages``: what feeds hand to the ingest worker (raw payloads, connection events);
- ``limits``: payload and dead-letter limits shared by feeds, decoders and ingest;
- ``addresses``: broker URLs and MQTT topic checks, used by config, feeds and the demo;
- ``timeutil``: parsing and formatting timestamps;
- ``config/``: the config schema, its loader and secrets;
- ``feeds/``: transports (MQTT, HTTP) producing raw messages; no decoding, no pipeline;
- ``decoders/``: payload formats (JSON, NGSI, SensorThings, SenML, CAP, OwnTracks);
- ``ingest/``: the ingest worker, the state hub, feed health, KPIs;
- ``alarms/``: rules and the ISA-18.2 alarm store;
- ``store/``: the offline cache (SQLite), its schema and export;
- ``demo/``: the simulated Yiyang city, its publisher, the load generator, the embedded broker;
- ``session``: composes feeds, ingest and the cache for one running app.

The import rules between them are import-linter contracts (``make lint``).
"""
