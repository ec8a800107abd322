"""End-to-end benchmarks (issue 14): plain scripts, each with its own mosquitto.

Run one with ``.venv/bin/python -m bench.<name>`` (for example ``-m bench.ingest``) after
``make test``'s install; each prints a table and writes its figures as JSON under
``bench/results/`` (not committed). Shared pieces are in :mod:`bench._common`.
"""
