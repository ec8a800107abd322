"""HTTP polling feeds: one worker thread per feed, feeding the ingest queue.

The poller is a producer like :mod:`services.feeds.mqtt.client`: it fetches bodies and hands them
to a sink as :class:`RawMessage` items (the feed's decoder runs later, in the ingest worker),
and reports each feed's health as :class:`ConnectionEvent` items.

Behaviour, per feed:

* polls ``http.url`` every ``http.interval`` seconds on its own thread, so a slow or dead
  endpoint never delays another feed;
* ``http.timeout`` limits connecting and every wait for data; the whole response, headers
  included, must also arrive within ``RESPONSE_DEADLINE_FACTOR`` times that, so a server
  that trickles (a byte a second keeps every single wait short) still fails in time: the
  feed's thread cuts the request's socket off at that deadline and reports the feed FAILING
  at once ("timed out: no complete response within N s"; not retried in the same poll, as a
  retry would likely trickle too), and polls again at the next interval;
* transient failures (connection problems, time-outs, HTTP 5xx, 408, 429) are retried up to
  ``http.retries`` times with exponential backoff and jitter (never waiting longer than the
  interval); then the feed is reported FAILING with a readable reason and tried again at the
  next interval. Other failures (HTTP 4xx, TLS verification, missing secrets, oversized
  responses) are reported at once;
* conditional requests: the ETag and Last-Modified of every URL are remembered and sent back
  as If-None-Match / If-Modified-Since; a 304 produces no message but counts as healthy;
* paging: when a 200 body is a JSON object with a string ``@iot.nextLink`` (SensorThings)
  pointing to the same scheme, host and port, that page is fetched too in the same cycle and
  handed over as its own message, up to ``MAX_PAGES_PER_CYCLE`` pages; the rest waits for the
  next cycle, which starts again at the first page;
* bodies larger than ``MAX_PAYLOAD_BYTES`` (after content decoding) are refused;
* health: CONNECTING when polling starts, CONNECTED after the first poll in which every page
  succeeded (and again after a failure), FAILING with the reason when a poll fails (a later
  page's failure reads "page N: ..."); pages fetched before a failure are still delivered.

Requests run on short-lived helper threads so that :meth:`HttpFeedPoller.stop` never waits
for the network: an abandoned request's socket is shut down, so it ends at once, and its
result is dropped. To reach that socket, the session's connections are
:class:`_WatchedHTTPConnection` (urllib3's, reporting their socket to the request that uses
them); requests through a SOCKS proxy are only abandoned.

URLs are shown and logged through :func:`services.addresses.redact_url` (connection events,
messages' topics, log lines), never as configured.
"""

from __future__ import annotations

import base64
import http
import http.client
import json
import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
import urllib3.response

from services.addresses import redact_url
from services.config import FeedConfig, HttpSettings
from services.feeds.http.errors import describe_error, short_text
from services.feeds.http.transport import Cutoff, new_session, request_context
from services.limits import MAX_PAYLOAD_BYTES
from services.messages import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState

log = logging.getLogger(__name__)

MAX_PAGES_PER_CYCLE = 50
RESPONSE_DEADLINE_FACTOR = 3.0
RETRY_BASE_SECONDS = 0.5
RETRY_CAP_SECONDS = 30.0
NEXT_LINK_KEY = "@iot.nextLink"
MAX_LINK_LENGTH = 4096
_CHUNK_BYTES = 64 * 1024
_MAX_REMEMBERED_URLS = 256
_STOP_CHECK_SECONDS = 0.05


@dataclass(slots=True)
class _Validators:
    """What the server told us about one URL last time."""

    etag: str | None = None
    last_modified: str | None = None
    next_link: str | None = None


@dataclass(frozen=True, slots=True)
class _Result:
    """The outcome of one request."""

    status: int = 0
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str = ""
    transient: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True, slots=True)
class _Secrets:
    """Request headers carrying credentials, or the reason they are missing."""

    headers: dict[str, str]
    problem: str = ""


def _auth_headers(settings: HttpSettings) -> _Secrets:
    if settings.auth == "basic":
        password = settings.password()
        if password is None:
            return _Secrets({}, f"password not set ({_secret_source(settings, 'password')})")
        pair = f"{settings.username}:{password}".encode()
        return _Secrets({"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")})
    if settings.auth == "bearer":
        token = settings.token()
        if token is None or not token.strip():
            return _Secrets({}, f"token not set ({_secret_source(settings, 'token')})")
        return _Secrets({"Authorization": f"Bearer {token.strip()}"})
    return _Secrets({})


def _secret_source(settings: HttpSettings, kind: str) -> str:
    if kind == "token":
        if settings.token_env:
            return f"environment variable {settings.token_env}"
        return "no token_env configured"
    places = []
    if settings.password_env:
        places.append(f"environment variable {settings.password_env}")
    if settings.password_keyring:
        places.append(f"keyring service {settings.password_keyring}")
    return " or ".join(places) if places else "no password_env or password_keyring configured"


def _http_failure(status: int, reason: str) -> _Result:
    if not reason:
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    detail = f"HTTP {status} {reason}".rstrip()
    return _Result(status=status, error=detail, transient=status >= 500 or status in (408, 429))


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def same_origin(url: str, other: str) -> bool:
    """Whether two URLs share scheme, host and port."""
    origin = _origin(url)
    return origin is not None and origin == _origin(other)


def next_page_link(body: bytes, page_url: str) -> str | None:
    """The ``@iot.nextLink`` of a JSON object body, made absolute; None if there is none."""
    if NEXT_LINK_KEY.encode() not in body:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    link = document.get(NEXT_LINK_KEY)
    if (
        not isinstance(link, str)
        or not link
        or len(link) > MAX_LINK_LENGTH
        or any(character.isspace() or not character.isprintable() for character in link)
    ):
        return None
    return urljoin(page_url, link)


class _FeedWorker:
    """Polls one feed on its own thread."""

    def __init__(
        self,
        feed: FeedConfig,
        settings: HttpSettings,
        sink: Callable[[InboxItem], None],
        clock: Callable[[], float],
    ) -> None:
        self.feed = feed
        self.settings = settings
        self.label = redact_url(settings.url)
        """How events and the log name the feed's URL (credentials redacted)."""
        self._sink = sink
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._paused = False
        self._poll_requested = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reported: tuple[FeedState, str] | None = None
        self._validators: OrderedDict[str, _Validators] = OrderedDict()
        self._random = random.Random()
        self._warned_pages = False
        self._warned_links = False

    # -- control (any thread) -------------------------------------------------------------
    def start(self, stop: threading.Event) -> None:
        self._stop = stop
        self._thread = threading.Thread(
            target=self._run, name=f"cityops-http-{self.feed.name}", daemon=True
        )
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end; False if it is still running."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(max(timeout, 0.0))
        if thread.is_alive():
            return False
        self._thread = None
        return True

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            changed = self._paused != paused
            self._paused = paused
            if not paused and changed:
                self._poll_requested = True
        self._wake.set()

    # -- worker thread --------------------------------------------------------------------
    def _run(self) -> None:
        log.debug(
            "feed %r: polling %s every %g s", self.feed.name, self.label, self.settings.interval
        )
        session = new_session()
        next_due = time.monotonic()
        try:
            self._report(FeedState.CONNECTING, "first poll")
            while not self._stop.is_set():
                self._wake.clear()
                with self._lock:
                    forced, self._poll_requested = self._poll_requested, False
                    paused = self._paused
                now = time.monotonic()
                if forced or (not paused and now >= next_due):
                    started = now
                    try:
                        self._cycle(session)
                    except Exception:  # a bug here must not end the feed's polling
                        log.exception("feed %r: poll failed unexpectedly", self.feed.name)
                    next_due = started + self.settings.interval
                    if next_due <= time.monotonic():
                        next_due = time.monotonic() + self.settings.interval
                    continue
                self._wake.wait(None if paused else next_due - now)
        finally:
            session.close()
            log.debug("feed %r: polling stopped", self.feed.name)

    def _cycle(self, session: requests.Session) -> None:
        secrets = _auth_headers(self.settings)
        if secrets.problem:
            self._report(FeedState.FAILING, secrets.problem)
            return
        url: str | None = self.settings.url
        visited: list[str] = []
        while url is not None and len(visited) < MAX_PAGES_PER_CYCLE:
            visited.append(url)
            result = self._fetch_with_retries(session, url, secrets.headers)
            if result is None:
                return  # stopping
            if not result.ok:
                page = f"page {len(visited)}: " if len(visited) > 1 else ""
                self._report(FeedState.FAILING, page + result.error)
                return
            validators = self._remember(url, result)
            if result.body is not None:
                self._deliver(url, result.body)
            url = self._follow(validators.next_link if validators is not None else None, visited)
        self._report(FeedState.CONNECTED, f"polling every {self.settings.interval:g} s")
        if url is not None and not self._warned_pages:
            self._warned_pages = True
            log.warning(
                "feed %r: more than %d pages in one poll; the rest is left for later polls",
                self.feed.name,
                MAX_PAGES_PER_CYCLE,
            )

    def _follow(self, link: str | None, visited: list[str]) -> str | None:
        """The next page to fetch in this cycle, if any."""
        if link is None or link in visited:
            return None
        if not same_origin(link, self.settings.url):
            if not self._warned_links:
                self._warned_links = True
                log.warning(
                    "feed %r: not following next link %r: it leaves %s",
                    self.feed.name,
                    redact_url(link[:200]),
                    self.label,
                )
            return None
        return link

    def _remember(self, url: str, result: _Result) -> _Validators | None:
        """Update what is known about ``url`` from a successful result; returns it."""
        validators = self._validators.get(url)
        if result.body is not None:
            link = next_page_link(result.body, url)
            if result.etag or result.last_modified or link:
                validators = _Validators(result.etag, result.last_modified, link)
                self._validators[url] = validators
            else:
                self._validators.pop(url, None)
                validators = None
        elif validators is not None:  # 304: the server may send fresher validators
            validators.etag = result.etag or validators.etag
            validators.last_modified = result.last_modified or validators.last_modified
        if validators is not None:
            self._validators.move_to_end(url)
            while len(self._validators) > _MAX_REMEMBERED_URLS:
                self._validators.popitem(last=False)
        return validators

    def _deliver(self, url: str, body: bytes) -> None:
        try:
            self._sink(RawMessage(self.feed.name, redact_url(url), body, self._clock()))
        except Exception:
            log.exception("feed %r: the sink refused a message", self.feed.name)

    def _report(self, state: FeedState, detail: str) -> None:
        if self._stop.is_set():
            return
        detail = redact_url(detail)  # an error's text may quote the URL
        previous = self._reported
        if previous == (state, detail):
            return
        self._reported = (state, detail)
        if state is FeedState.FAILING:
            log.warning("feed %r (%s): %s", self.feed.name, self.label, detail)
        elif state is FeedState.CONNECTED and previous and previous[0] is FeedState.FAILING:
            log.info("feed %r (%s) recovered", self.feed.name, self.label)
        try:
            self._sink(ConnectionEvent(self.label, state, (self.feed.name,), detail))
        except Exception:
            log.exception("feed %r: the sink refused a connection event", self.feed.name)

    def _fetch_with_retries(
        self, session: requests.Session, url: str, headers: dict[str, str]
    ) -> _Result | None:
        """Fetch ``url``, retrying transient failures; None when stopping."""
        attempt = 0
        while True:
            result = self._fetch_interruptibly(session, url, headers)
            if result is None or result.ok or not result.transient:
                return result
            if attempt >= self.settings.retries:
                return result
            delay = min(RETRY_BASE_SECONDS * 2**attempt, RETRY_CAP_SECONDS, self.settings.interval)
            delay *= self._random.uniform(0.5, 1.0)
            attempt += 1
            log.debug(
                "feed %r: %s; retry %d of %d in %.2f s",
                self.feed.name,
                result.error,
                attempt,
                self.settings.retries,
                delay,
            )
            if self._stop.wait(delay):
                return None

    def _fetch_interruptibly(
        self, session: requests.Session, url: str, headers: dict[str, str]
    ) -> _Result | None:
        """Run one request on a helper thread so that stopping never waits for the network,
        and end it at its deadline (``RESPONSE_DEADLINE_FACTOR`` times the time-out) however
        slowly the server sends.

        Returns None when the poller stops first; the abandoned request's socket is shut
        down, so it ends at once, and its result is dropped.
        """
        box: list[_Result] = []
        done = threading.Event()
        cutoff = Cutoff()
        budget = self.settings.timeout * RESPONSE_DEADLINE_FACTOR
        deadline = time.monotonic() + budget
        request_headers = dict(headers)
        known = self._validators.get(url)
        if known is not None:
            if known.etag:
                request_headers["If-None-Match"] = known.etag
            if known.last_modified:
                request_headers["If-Modified-Since"] = known.last_modified

        def fetch() -> None:
            request_context.cutoff = cutoff
            try:
                box.append(self._fetch(session, url, request_headers))
            except Exception as error:  # never let a request error escape the helper thread
                box.append(_Result(error=f"request failed: {short_text(error)}", transient=True))
            finally:
                request_context.cutoff = None
                done.set()

        helper = threading.Thread(
            target=fetch, name=f"cityops-http-{self.feed.name}-request", daemon=True
        )
        helper.start()
        while not done.wait(_STOP_CHECK_SECONDS):
            if self._stop.is_set():
                cutoff.cut()
                return None
            if time.monotonic() > deadline:
                cutoff.cut()
                log.debug("feed %r: %s sent too slowly; cut off", self.feed.name, self.label)
                return _Result(error=f"timed out: no complete response within {budget:g} s")
        if self._stop.is_set():
            return None
        return box[0]

    def _fetch(self, session: requests.Session, url: str, headers: dict[str, str]) -> _Result:
        """One GET with a size limit. Runs on a helper thread (which owns its deadline)."""
        settings = self.settings
        timeout = settings.timeout
        verify: bool | str = settings.verify
        if settings.verify and settings.ca_file is not None:
            verify = str(settings.ca_file)
        try:
            response = session.get(
                url, headers=headers, timeout=(timeout, timeout), verify=verify, stream=True
            )
            with response:
                status = response.status_code
                if status in (304, 204):
                    return _Result(
                        status=status,
                        etag=response.headers.get("ETag"),
                        last_modified=response.headers.get("Last-Modified"),
                    )
                if not 200 <= status < 300:
                    return _http_failure(status, response.reason or "")
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > MAX_PAYLOAD_BYTES:
                    return _Result(status=status, error=_too_large())
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_content(_CHUNK_BYTES):
                    size += len(chunk)
                    if size > MAX_PAYLOAD_BYTES:
                        return _Result(status=status, error=_too_large())
                    chunks.append(chunk)
                    if self._stop.is_set():
                        return _Result(status=status, error="stopped")
                return _Result(
                    status=status,
                    body=b"".join(chunks),
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                )
        except (requests.RequestException, OSError, urllib3.exceptions.HTTPError) as error:
            detail, transient = describe_error(error, timeout)
            return _Result(error=detail, transient=transient)


def _too_large() -> str:
    return f"response larger than {MAX_PAYLOAD_BYTES // 1024} KiB"


class HttpFeedPoller:
    """Polls every HTTP feed, each on its own thread, and hands the bodies to ``sink``.

    ``sink`` receives :class:`RawMessage` items (topic = the URL fetched) and
    :class:`ConnectionEvent` items (broker = the feed's URL) from the worker threads; it must
    be thread-safe and must not block (``IngestPipeline.put`` is both).
    """

    def __init__(
        self,
        feeds: Sequence[FeedConfig],
        sink: Callable[[InboxItem], None],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._workers: dict[str, _FeedWorker] = {}
        for feed in feeds:
            if feed.kind != "http" or feed.http is None:
                raise ValueError(f"feed {feed.name!r} is not an HTTP feed")
            if feed.name in self._workers:
                raise ValueError(f"feed {feed.name!r} is configured twice")
            self._workers[feed.name] = _FeedWorker(feed, feed.http, sink, clock)
        self._stop = threading.Event()
        self._running = False
        self._warned_insecure: set[str] = set()

    @property
    def feed_names(self) -> tuple[str, ...]:
        """The names of the feeds this poller owns."""
        return tuple(self._workers)

    def start(self) -> None:
        """Start polling every feed (each polls at once, then at its interval)."""
        if self._running:
            return
        self._running = True
        self._stop = threading.Event()
        for name, worker in self._workers.items():
            if not worker.settings.verify and name not in self._warned_insecure:
                self._warned_insecure.add(name)
                log.warning(
                    "feed %r: TLS certificate verification is off for %s", name, worker.label
                )
                # Logged once above instead of urllib3 warning on every request.
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            worker.start(self._stop)
        log.info("polling %d HTTP feeds", len(self._workers))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling and wait up to ``timeout`` seconds for the threads; safe to repeat.

        Requests still in flight are abandoned (they end on their own time-out), so this
        returns promptly even when an endpoint hangs.
        """
        if not self._running:
            return
        self._running = False
        self._stop.set()
        for worker in self._workers.values():
            worker.wake()
        deadline = time.monotonic() + timeout
        for name, worker in self._workers.items():
            if not worker.join(deadline - time.monotonic()):
                log.error("HTTP feed %r did not stop within %.1f s", name, timeout)

    def pause(self, feed_name: str) -> None:
        """Stop polling one feed until :meth:`resume`."""
        self._worker(feed_name).set_paused(True)
        log.info("feed %r paused", feed_name)

    def resume(self, feed_name: str) -> None:
        """Poll a paused feed again (at once, then at its interval)."""
        self._worker(feed_name).set_paused(False)
        log.info("feed %r resumed", feed_name)

    def _worker(self, feed_name: str) -> _FeedWorker:
        try:
            return self._workers[feed_name]
        except KeyError:
            raise KeyError(f"no HTTP feed named {feed_name!r}") from None
