"""A local tile server for the tests: /z/x/y.png answered with a PNG-looking body that
names the tile; chosen paths fail with 503; every request path is recorded; each answer can
be made to take a while (``delay``), for tests that need a run to last."""

from __future__ import annotations

import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


ONE_PIXEL_PNG = (
    PNG_MAGIC
    + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    + _chunk(b"IDAT", zlib.compress(b"\x00\xa0\xa0\xa0"))
    + _chunk(b"IEND", b"")
)
"""A valid grey one-pixel PNG (browsers draw it; what follows its end is ignored)."""


def tile_body(path: str) -> bytes:
    """What the server answers for ``path``: a valid PNG, then the path (to tell tiles apart)."""
    return ONE_PIXEL_PNG + path.encode()


class TileServer:
    """Serves /z/x/y.png as a PNG-looking body naming the tile; some paths fail."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.failing: set[str] = set()
        self.delay = 0.0
        """Seconds every answer waits before it is sent (each request on its own thread)."""
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append(self.path)
                    failing = self.path in server.failing
                    delay = server.delay
                if delay > 0:
                    time.sleep(delay)
                if failing:
                    self.send_error(503)
                    return
                body = tile_body(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
