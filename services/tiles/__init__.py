"""Map tiles: numbering, the offline tile store, tiles from files."""
