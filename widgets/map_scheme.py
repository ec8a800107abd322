"""The app's own URL scheme for map pages (filled in by the map view work)."""


def register_scheme() -> None:
    """Register the ``cityops`` scheme; must run before QApplication is created."""
