"""Coordinates: the GCJ-02 datum of Chinese map providers and WGS-84."""
