"""Feed transports: MQTT subscriptions and HTTP polling.

They deliver :mod:`services.messages` items to a sink and know nothing of decoding, the
state hub or the cache.
"""
