"""The app's own ``cityops://`` URL scheme, which serves the map page and its assets offline.

``register_scheme()`` must run before the QApplication is created; ``install_scheme_handler()``
then attaches one :class:`CityOpsSchemeHandler` to a web engine profile. URLs look like:

- ``cityops://app/leaflet/<file>``: Leaflet from the installed xstatic-leaflet package,
- ``cityops://app/markercluster/<file>``: Leaflet.markercluster from xstatic,
- ``cityops://app/map/<file>``: the project's own files in ``resources/map``,
- ``cityops://app/page/<token>.html``: a generated page registered with ``add_page()``,
- ``cityops://app/tiles/<base map>/<z>/<x>/<y>``: a base map's tile, answered (possibly
  later) by the tile provider set with ``set_tile_provider()``; none: not found.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import logging
import re
import uuid
from collections.abc import Callable
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QIODevice, QObject, QUrl
from PySide6.QtWebEngineCore import (
    QWebEngineProfile,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)

log = logging.getLogger(__name__)

TileReply = Callable[[bytes | None, str, str], None]
"""Answers a tile request: its bytes (None: there is none), media type, content encoding."""
TileProvider = Callable[[str, int, int, int, TileReply], None]
"""Asked for (base map, z, x, y); calls the reply on the GUI thread, now or later."""
MAX_TILE_ZOOM = 30

SCHEME = "cityops"
HOST = "app"
BASE_URL = f"{SCHEME}://{HOST}"

_SCHEME_BYTES = SCHEME.encode("ascii")

MIME_TYPES: dict[str, bytes] = {
    ".html": b"text/html",
    ".js": b"text/javascript",
    ".css": b"text/css",
    ".png": b"image/png",
    ".svg": b"image/svg+xml",
    ".json": b"application/json",
    ".geojson": b"application/geo+json",
    ".map": b"application/json",
}


def _xstatic_dir(module_name: str) -> Path:
    """The data directory of an installed xstatic package."""
    module = importlib.import_module(module_name)
    return Path(module.BASE_DIR)


def asset_roots() -> dict[str, Traversable]:
    """The folders served under ``cityops://app/<prefix>/``, by prefix."""
    return {
        "leaflet": _xstatic_dir("xstatic.pkg.leaflet"),
        "markercluster": _xstatic_dir("xstatic.pkg.leaflet_markercluster"),
        "map": files("resources") / "map",
    }


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def inline_script_hashes(page: str) -> str:
    """The CSP ``'sha256-…'`` sources that allow exactly ``page``'s inline scripts."""
    return " ".join(
        "'sha256-{}'".format(
            base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        )
        for body in _INLINE_SCRIPT.findall(page)
    )


def register_scheme() -> None:
    """Register the ``cityops`` scheme; must run before QApplication is created.

    Calling it again is harmless. Calling it for the first time once the application exists
    is a programming error (Qt would ignore the registration), so it raises RuntimeError.
    """
    if QWebEngineUrlScheme.schemeByName(QByteArray(_SCHEME_BYTES)).name() == _SCHEME_BYTES:
        return
    if QCoreApplication.instance() is not None:
        raise RuntimeError("register_scheme() must be called before the QApplication is created")
    scheme = QWebEngineUrlScheme(QByteArray(_SCHEME_BYTES))
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(
        QWebEngineUrlScheme.Flag.SecureScheme
        | QWebEngineUrlScheme.Flag.LocalScheme
        | QWebEngineUrlScheme.Flag.LocalAccessAllowed
        | QWebEngineUrlScheme.Flag.CorsEnabled
    )
    QWebEngineUrlScheme.registerScheme(scheme)


def _safe_parts(path: str) -> list[str] | None:
    """Split a URL path into plain file-name parts, or None if any part is suspicious."""
    parts = path.split("/")
    if not parts or parts[0] != "":
        return None
    parts = parts[1:]
    for part in parts:
        if part in ("", ".", "..") or "\\" in part or "\x00" in part or part.startswith("."):
            return None
    return parts


class CityOpsSchemeHandler(QWebEngineUrlSchemeHandler):
    """Serves Leaflet, our map assets and registered pages for ``cityops://app/...``."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._roots = asset_roots()
        self._pages: dict[str, bytes] = {}
        self._tile_provider: TileProvider | None = None

    def set_tile_provider(self, provider: TileProvider | None) -> None:
        """Who answers ``tiles/`` requests (None: every tile is not found)."""
        self._tile_provider = provider

    def add_page(self, html: str) -> QUrl:
        """Register a generated HTML page; returns the URL that serves it."""
        token = uuid.uuid4().hex
        self._pages[token] = html.encode("utf-8")
        return QUrl(f"{BASE_URL}/page/{token}.html")

    def remove_page(self, url: QUrl) -> None:
        """Forget a page registered with :meth:`add_page` (unknown URLs are ignored)."""
        name = url.path().rsplit("/", 1)[-1]
        self._pages.pop(name.removesuffix(".html"), None)

    def lookup(self, url: QUrl) -> tuple[bytes, bytes] | None:
        """The (MIME type, body) served for ``url``, or None when there is no such resource."""
        if url.scheme() != SCHEME or url.host() != HOST:
            return None
        parts = _safe_parts(url.path(QUrl.ComponentFormattingOption.FullyDecoded))
        if parts is None or len(parts) < 2:
            return None
        prefix, rest = parts[0], parts[1:]
        suffix = Path(rest[-1]).suffix.lower()
        mime = MIME_TYPES.get(suffix)
        if mime is None:
            return None
        if prefix == "page":
            body = self._pages.get(rest[-1].removesuffix(".html")) if len(rest) == 1 else None
            return (mime, body) if body is not None else None
        root = self._roots.get(prefix)
        if root is None:
            return None
        return self._read(root, rest, mime)

    @staticmethod
    def _read(root: Traversable, parts: list[str], mime: bytes) -> tuple[bytes, bytes] | None:
        target = root.joinpath(*parts)
        if isinstance(root, Path) and isinstance(target, Path):
            # Belt and braces: the parts were already checked, but refuse symlink escapes too.
            try:
                resolved = target.resolve(strict=True)
            except OSError:
                return None
            if not resolved.is_relative_to(root.resolve()):
                return None
        if not target.is_file():
            return None
        try:
            return mime, target.read_bytes()
        except OSError:
            log.warning("cannot read map asset %s", target, exc_info=True)
            return None

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        """Answer one request from the page."""
        url = job.requestUrl()
        method = bytes(job.requestMethod().data()).decode("ascii", "replace")
        if method != "GET":
            log.warning("refused %s request for %s", method, url.toString())
            job.fail(QWebEngineUrlRequestJob.Error.RequestDenied)
            return
        tile = _tile_request(url)
        if tile is not None:
            self._serve_tile(job, *tile)
            return
        found = self.lookup(url)
        if found is None:
            log.warning("map page asked for an unknown resource: %s", url.toString())
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        mime, body = found
        buffer = QBuffer(job)
        buffer.setData(QByteArray(body))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        job.reply(QByteArray(mime), buffer)

    def _serve_tile(
        self, job: QWebEngineUrlRequestJob, basemap: str, z: int, x: int, y: int
    ) -> None:
        provider = self._tile_provider
        if provider is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return

        def reply(body: bytes | None, mime: str, encoding: str) -> None:
            try:
                if body is None:
                    job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
                    return
                if encoding:
                    job.setAdditionalResponseHeaders(
                        {QByteArray(b"Content-Encoding"): QByteArray(encoding.encode("ascii"))}
                    )
                buffer = QBuffer(job)
                buffer.setData(QByteArray(body))
                buffer.open(QIODevice.OpenModeFlag.ReadOnly)
                job.reply(QByteArray(mime.encode("ascii", "replace")), buffer)
            except RuntimeError:  # the page went away meanwhile: nobody waits for it
                log.debug("tile %s/%d/%d/%d answered after its request ended", basemap, z, x, y)

        provider(basemap, z, x, y, reply)


def _tile_request(url: QUrl) -> tuple[str, int, int, int] | None:
    """(base map, z, x, y) of a ``tiles/`` URL of ours, or None."""
    if url.scheme() != SCHEME or url.host() != HOST:
        return None
    parts = url.path(QUrl.ComponentFormattingOption.FullyDecoded).strip("/").split("/")
    if len(parts) != 5 or parts[0] != "tiles" or not parts[1]:
        return None
    try:
        z, x, y = (int(part) for part in parts[2:])
    except ValueError:
        return None
    if not 0 <= z <= MAX_TILE_ZOOM or not (0 <= x < 2**z and 0 <= y < 2**z):
        return None
    return parts[1], z, x, y


def install_scheme_handler(profile: QWebEngineProfile) -> CityOpsSchemeHandler:
    """Attach the ``cityops`` handler to ``profile`` once; returns the installed handler.

    The handler is a child of the profile, so it lives exactly as long as the profile does.
    """
    existing = profile.urlSchemeHandler(QByteArray(_SCHEME_BYTES))
    if isinstance(existing, CityOpsSchemeHandler):
        return existing
    if existing is not None:
        raise RuntimeError("another handler is already installed for the cityops scheme")
    handler = CityOpsSchemeHandler(profile)
    profile.installUrlSchemeHandler(QByteArray(_SCHEME_BYTES), handler)
    return handler
