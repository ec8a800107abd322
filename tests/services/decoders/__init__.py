"""Decoder tests; their helpers are in ``tests.helpers.decoders``."""
