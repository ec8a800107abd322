"""HTTP feeds: one polling thread per feed."""
