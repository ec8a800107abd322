"""The engine process: feeds, decoding, state, alarms and the cache in a child of the
window's process."""
