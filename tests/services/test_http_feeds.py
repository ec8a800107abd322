"""HTTP polling feeds against a real local HTTP(S) server scripted per test."""

from __future__ import annotations

import base64
import json
import logging
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from services.config import FeedConfig, HttpSettings
from services.feeds.http.poller import MAX_PAGES_PER_CYCLE, HttpFeedPoller, next_page_link
from services.limits import MAX_PAYLOAD_BYTES
from services.messages import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState
from tests.helpers.net import free_port
from tests.helpers.polling import wait_for

Route = Callable[["ScriptedHandler"], None]


@dataclass(frozen=True)
class SeenRequest:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]


@dataclass
class ScriptedServer:
    """A ThreadingHTTPServer on loopback whose answers each test scripts by path."""

    httpd: ThreadingHTTPServer
    scheme: str = "http"
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[SeenRequest] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def requests_to(self, path: str) -> list[SeenRequest]:
        return [seen for seen in list(self.seen) if urlsplit(seen.path).path == path]

    def hang(self, seconds: float) -> None:
        """Sleep in a handler; ends early when the test finishes."""
        self.release.wait(seconds)


class ScriptedHandler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer
    script: ScriptedServer

    def do_GET(self) -> None:
        script = self.script
        script.seen.append(SeenRequest(self.path, {k: v for k, v in self.headers.items()}))
        route = script.routes.get(urlsplit(self.path).path)
        try:
            if route is None:
                self.reply(404, b"no such route")
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (time-out, size limit, stop)

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status not in (204, 304):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def start_server(tls: ssl.SSLContext | None = None) -> ScriptedServer:
    handler = type("Handler", (ScriptedHandler,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    script = ScriptedServer(httpd, scheme="https" if tls else "http")
    handler.script = script
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    return script


def close_server(script: ScriptedServer) -> None:
    script.release.set()
    script.httpd.shutdown()
    script.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    script = start_server()
    yield script
    close_server(script)


class Collector:
    """The sink: everything the poller hands over, in order."""

    def __init__(self) -> None:
        self.items: list[InboxItem] = []

    def __call__(self, item: InboxItem) -> None:
        self.items.append(item)

    def messages(self, feed: str) -> list[RawMessage]:
        return [i for i in list(self.items) if isinstance(i, RawMessage) and i.feed == feed]

    def events(self, feed: str) -> list[ConnectionEvent]:
        return [i for i in list(self.items) if isinstance(i, ConnectionEvent) and feed in i.feeds]

    def states(self, feed: str) -> list[FeedState]:
        return [event.state for event in self.events(feed)]

    def failing(self, feed: str) -> list[str]:
        return [e.detail for e in self.events(feed) if e.state is FeedState.FAILING]


@pytest.fixture
def make_poller() -> Iterator[Callable[..., tuple[HttpFeedPoller, Collector]]]:
    pollers: list[HttpFeedPoller] = []

    def make(*feeds: FeedConfig, **kwargs: object) -> tuple[HttpFeedPoller, Collector]:
        sink = Collector()
        poller = HttpFeedPoller(feeds, sink, **kwargs)  # type: ignore[arg-type]
        pollers.append(poller)
        poller.start()
        return poller, sink

    yield make
    for poller in pollers:
        poller.stop()


def feed(name: str, url: str, **settings: object) -> FeedConfig:
    options: dict[str, object] = {"interval": 0.1, "timeout": 2.0, "retries": 0}
    options.update(settings)
    return FeedConfig(name=name, kind="http", http=HttpSettings(url=url, **options))  # type: ignore[arg-type]


def json_body(document: object) -> bytes:
    return json.dumps(document).encode()


# -- tests ------------------------------------------------------------------------------------


def test_200_delivers_the_body_and_reports_connected(server: ScriptedServer, make_poller) -> None:
    body = json_body({"id": "aq-1", "pm25": 42})
    server.routes["/air"] = lambda h: h.reply(200, body, {"Content-Type": "application/json"})
    _, sink = make_poller(feed("air", server.url("/air"), interval=60), clock=lambda: 1234.5)

    wait_for(lambda: sink.messages("air"), what="a message")
    (message,) = sink.messages("air")
    assert message == RawMessage("air", server.url("/air"), body, 1234.5)
    wait_for(lambda: FeedState.CONNECTED in sink.states("air"))
    assert sink.states("air") == [FeedState.CONNECTING, FeedState.CONNECTED]
    assert {e.broker for e in sink.events("air")} == {server.url("/air")}
    user_agent = server.requests_to("/air")[0].headers["User-Agent"]
    assert user_agent.startswith("CityOps/")


def test_etag_gives_304_without_a_message_and_stays_connected(
    server: ScriptedServer, make_poller
) -> None:
    version = {"tag": '"v1"', "value": 1}

    def route(h: ScriptedHandler) -> None:
        if h.headers.get("If-None-Match") == version["tag"]:
            h.reply(304, headers={"ETag": str(version["tag"])})
        else:
            h.reply(200, json_body({"v": version["value"]}), {"ETag": str(version["tag"])})

    server.routes["/etag"] = route
    _, sink = make_poller(feed("f", server.url("/etag")))

    wait_for(lambda: len(server.requests_to("/etag")) >= 4, what="several polls")
    assert len(sink.messages("f")) == 1
    later = server.requests_to("/etag")[1:]
    assert all(seen.headers.get("If-None-Match") == '"v1"' for seen in later)
    assert sink.states("f") == [FeedState.CONNECTING, FeedState.CONNECTED]

    version.update(tag='"v2"', value=2)
    wait_for(lambda: len(sink.messages("f")) == 2, what="the changed document")
    assert json.loads(sink.messages("f")[1].payload) == {"v": 2}
    assert FeedState.FAILING not in sink.states("f")


def test_last_modified_gives_304_without_a_message(server: ScriptedServer, make_poller) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"

    def route(h: ScriptedHandler) -> None:
        if h.headers.get("If-Modified-Since") == stamp:
            h.reply(304)
        else:
            h.reply(200, b'{"ok": true}', {"Last-Modified": stamp})

    server.routes["/lm"] = route
    _, sink = make_poller(feed("f", server.url("/lm")))

    wait_for(lambda: len(server.requests_to("/lm")) >= 4, what="several polls")
    assert len(sink.messages("f")) == 1
    assert "If-Modified-Since" not in server.requests_to("/lm")[0].headers
    assert server.requests_to("/lm")[1].headers["If-Modified-Since"] == stamp
    assert sink.states("f")[-1] is FeedState.CONNECTED
    assert FeedState.FAILING not in sink.states("f")


def test_sensorthings_next_links_are_followed_in_one_cycle(
    server: ScriptedServer, make_poller
) -> None:
    def route(h: ScriptedHandler) -> None:
        page = int(urlsplit(h.path).query.partition("=")[2] or 1)
        document: dict[str, object] = {"value": [{"page": page}]}
        if page < 3:
            document["@iot.nextLink"] = server.url(f"/Observations?page={page + 1}")
        h.reply(200, json_body(document))

    server.routes["/Observations"] = route
    _, sink = make_poller(feed("st", server.url("/Observations"), interval=60))

    wait_for(lambda: len(sink.messages("st")) >= 3, what="three pages")
    time.sleep(0.3)
    topics = [message.topic for message in sink.messages("st")]
    assert topics == [
        server.url("/Observations"),
        server.url("/Observations?page=2"),
        server.url("/Observations?page=3"),
    ]
    pages = [json.loads(m.payload)["value"][0]["page"] for m in sink.messages("st")]
    assert pages == [1, 2, 3]


def test_paging_stops_at_the_page_limit_and_other_hosts(
    server: ScriptedServer, make_poller
) -> None:
    def endless(h: ScriptedHandler) -> None:
        page = int(urlsplit(h.path).query.partition("=")[2] or 1)
        link = server.url(f"/endless?page={page + 1}")
        h.reply(200, json_body({"value": [], "@iot.nextLink": link}))

    server.routes["/endless"] = endless
    server.routes["/away"] = lambda h: h.reply(
        200, json_body({"value": [], "@iot.nextLink": "http://example.invalid/next"})
    )
    server.routes["/loop"] = lambda h: h.reply(
        200, json_body({"value": [], "@iot.nextLink": "/loop"})
    )
    _, sink = make_poller(
        feed("endless", server.url("/endless"), interval=60),
        feed("away", server.url("/away"), interval=60),
        feed("loop", server.url("/loop"), interval=60),
    )

    wait_for(lambda: len(sink.messages("endless")) >= MAX_PAGES_PER_CYCLE, what="page limit")
    wait_for(lambda: sink.messages("away") and sink.messages("loop"))
    time.sleep(0.3)
    assert len(sink.messages("endless")) == MAX_PAGES_PER_CYCLE
    assert len(sink.messages("away")) == 1
    assert len(sink.messages("loop")) == 1


def test_a_failing_later_page_fails_the_feed_but_keeps_earlier_pages(
    server: ScriptedServer, make_poller
) -> None:
    server.routes["/first"] = lambda h: h.reply(
        200, json_body({"value": [1], "@iot.nextLink": server.url("/second")})
    )
    server.routes["/second"] = lambda h: h.reply(502, b"bad gateway")
    _, sink = make_poller(feed("st", server.url("/first"), interval=60))

    wait_for(lambda: sink.failing("st"), what="failing")
    assert sink.failing("st") == ["page 2: HTTP 502 Bad Gateway"]
    assert [m.topic for m in sink.messages("st")] == [server.url("/first")]
    assert FeedState.CONNECTED not in sink.states("st")


def test_http_500_is_reported_failing_then_recovers(server: ScriptedServer, make_poller) -> None:
    calls = {"n": 0}

    def route(h: ScriptedHandler) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            h.reply(500, b"boom")
        else:
            h.reply(200, b'{"recovered": true}')

    server.routes["/flaky"] = route
    _, sink = make_poller(feed("f", server.url("/flaky")))

    wait_for(lambda: sink.messages("f"), what="the payload after recovery")
    assert sink.failing("f") == ["HTTP 500 Internal Server Error"]
    states = sink.states("f")
    assert states[states.index(FeedState.FAILING) + 1] is FeedState.CONNECTED
    assert sink.messages("f")[0].payload == b'{"recovered": true}'


def test_transient_failures_are_retried_within_one_poll(
    server: ScriptedServer, make_poller
) -> None:
    calls = {"n": 0}

    def route(h: ScriptedHandler) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            h.reply(503, b"busy")
        else:
            h.reply(200, b"{}")

    server.routes["/busy"] = route
    server.routes["/gone"] = lambda h: h.reply(404, b"gone")
    _, sink = make_poller(
        feed("busy", server.url("/busy"), retries=2, interval=60),
        feed("gone", server.url("/gone"), retries=3, interval=60),
    )

    wait_for(lambda: sink.messages("busy"), what="success after two retries")
    assert len(server.requests_to("/busy")) == 3
    assert FeedState.FAILING not in sink.states("busy")
    wait_for(lambda: sink.failing("gone"), what="404 reported")
    assert sink.failing("gone") == ["HTTP 404 Not Found"]
    assert len(server.requests_to("/gone")) == 1  # a client error is not retried


def test_timeout_is_reported_and_does_not_delay_other_feeds(
    server: ScriptedServer, make_poller
) -> None:
    server.routes["/slow"] = lambda h: (server.hang(30), h.reply(200, b"late"))
    server.routes["/hang"] = lambda h: (server.hang(30), h.reply(200, b"late"))
    server.routes["/fast"] = lambda h: h.reply(200, b'{"fast": 1}')
    _, sink = make_poller(
        feed("slow", server.url("/slow"), timeout=0.3),
        feed("hang", server.url("/hang"), timeout=20.0, interval=60),
        feed("fast", server.url("/fast")),
    )

    wait_for(lambda: sink.failing("slow"), what="the slow feed failing")
    assert sink.failing("slow")[0] == "timed out after 0.3 s"
    wait_for(lambda: server.requests_to("/hang"), what="the hanging request")
    wait_for(lambda: len(sink.messages("fast")) >= 5, what="fast polls during the hang")
    assert sink.messages("hang") == []
    assert sink.states("hang") == [FeedState.CONNECTING]


def test_connection_refused_is_reported(make_poller) -> None:
    url = f"http://127.0.0.1:{free_port()}/nothing"
    _, sink = make_poller(feed("f", url, retries=1))

    wait_for(lambda: sink.failing("f"), what="failing")
    assert sink.failing("f")[0] == "connection refused"
    assert sink.events("f")[-1].broker == url


@pytest.mark.parametrize(
    "case",
    [
        ("basic", "CITYOPS_TEST_PASSWORD", "Basic " + base64.b64encode(b"ops:s3cr3t").decode()),
        ("bearer", "CITYOPS_TEST_TOKEN", "Bearer s3cr3t"),
    ],
)
def test_credentials_reach_the_server(
    server: ScriptedServer, make_poller, monkeypatch, case: tuple[str, str, str]
) -> None:
    auth, env, expected = case
    monkeypatch.setenv(env, "s3cr3t")
    server.routes["/secure"] = lambda h: (
        h.reply(200, b"{}")
        if h.headers.get("Authorization") == expected
        else h.reply(401, b"who are you")
    )
    settings: dict[str, object] = {"auth": auth}
    if auth == "basic":
        settings.update(username="ops", password_env=env)
    else:
        settings.update(token_env=env)
    _, sink = make_poller(feed("f", server.url("/secure"), **settings))

    wait_for(lambda: sink.messages("f"), what="an authorised response")
    assert server.requests_to("/secure")[0].headers["Authorization"] == expected
    assert sink.failing("f") == []


def test_missing_secrets_are_reported_without_a_request(
    server: ScriptedServer, make_poller, monkeypatch
) -> None:
    monkeypatch.delenv("CITYOPS_NO_SUCH_PASSWORD", raising=False)
    monkeypatch.delenv("CITYOPS_NO_SUCH_TOKEN", raising=False)
    server.routes["/secure"] = lambda h: h.reply(200, b"{}")
    _, sink = make_poller(
        feed(
            "basic",
            server.url("/secure"),
            auth="basic",
            username="ops",
            password_env="CITYOPS_NO_SUCH_PASSWORD",
        ),
        feed("bearer", server.url("/secure"), auth="bearer", token_env="CITYOPS_NO_SUCH_TOKEN"),
    )

    wait_for(lambda: sink.failing("basic") and sink.failing("bearer"), what="both failing")
    assert sink.failing("basic") == [
        "password not set (environment variable CITYOPS_NO_SUCH_PASSWORD)"
    ]
    assert sink.failing("bearer") == ["token not set (environment variable CITYOPS_NO_SUCH_TOKEN)"]
    assert server.seen == []


def test_pause_and_resume(server: ScriptedServer, make_poller) -> None:
    server.routes["/p"] = lambda h: h.reply(200, b"{}")
    poller, _ = make_poller(feed("f", server.url("/p")))

    wait_for(lambda: len(server.requests_to("/p")) >= 2, what="polling")
    poller.pause("f")
    time.sleep(0.3)  # a poll already under way may still finish
    paused_count = len(server.requests_to("/p"))
    time.sleep(0.6)
    assert len(server.requests_to("/p")) == paused_count

    poller.resume("f")
    wait_for(lambda: len(server.requests_to("/p")) >= paused_count + 3, what="polling again")
    with pytest.raises(KeyError, match="no HTTP feed named 'nope'"):
        poller.pause("nope")


def threads_named(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == name]


def test_stop_does_not_wait_for_a_hanging_request(server: ScriptedServer) -> None:
    server.routes["/hang"] = lambda h: (server.hang(60), h.reply(200, b"late"))
    sink = Collector()
    poller = HttpFeedPoller([feed("f", server.url("/hang"), timeout=30.0)], sink)
    poller.stop()  # before start: nothing to do
    poller.start()
    wait_for(lambda: server.requests_to("/hang"), what="the request to arrive")

    poller.stop()
    # the feed's thread is gone while its request still hangs: stop abandoned the request
    assert threads_named("cityops-http-f") == []
    poller.stop()  # idempotent

    # and cut its socket: it ends without the server answering; its result is dropped
    wait_for(lambda: not threads_named("cityops-http-f-request"), what="the request to end")
    server.release.set()
    assert sink.messages("f") == []
    assert sink.states("f") == [FeedState.CONNECTING]


@pytest.mark.perf
def test_stop_returns_within_2_s_while_a_request_hangs(server: ScriptedServer) -> None:
    server.routes["/hang"] = lambda h: (server.hang(30), h.reply(200, b"late"))
    poller = HttpFeedPoller([feed("f", server.url("/hang"), timeout=20.0)], Collector())
    poller.start()
    wait_for(lambda: server.requests_to("/hang"), what="the request to arrive")

    started = time.monotonic()
    poller.stop()
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("declare_length", [True, False])
def test_oversized_responses_are_refused(
    server: ScriptedServer, make_poller, declare_length: bool
) -> None:
    size = MAX_PAYLOAD_BYTES + 1

    def route(h: ScriptedHandler) -> None:
        h.send_response(200)
        if declare_length:
            h.send_header("Content-Length", str(size))
        h.end_headers()  # HTTP/1.0 without a length: the body ends when the server closes
        block = b"x" * (1024 * 1024)
        for _ in range(size // len(block)):
            h.wfile.write(block)
        h.wfile.write(b"x" * (size % len(block)))

    server.routes["/big"] = route
    server.routes["/small"] = lambda h: h.reply(200, b"{}")
    _, sink = make_poller(
        feed("big", server.url("/big"), interval=60), feed("small", server.url("/small"))
    )

    wait_for(lambda: sink.failing("big"), what="the size limit")
    assert sink.failing("big") == ["response larger than 256 KiB"]
    assert sink.messages("big") == []
    wait_for(lambda: sink.messages("small"))


def test_rejects_feeds_that_are_not_http() -> None:
    with pytest.raises(ValueError, match="not an HTTP feed"):
        HttpFeedPoller([FeedConfig(name="mqtt-feed", topic="a/b")], Collector())
    twice = feed("dup", "http://127.0.0.1:1/")
    with pytest.raises(ValueError, match="configured twice"):
        HttpFeedPoller([twice, twice], Collector())


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[ScriptedServer, Path]]:
    """An HTTPS server with a freshly made self-signed certificate for 127.0.0.1."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    script = start_server(context)
    script.routes["/tls"] = lambda h: h.reply(200, b'{"secure": true}')
    yield script, cert
    close_server(script)


def test_tls_verification(
    tls_server: tuple[ScriptedServer, Path], make_poller, caplog: pytest.LogCaptureFixture
) -> None:
    server, cert = tls_server
    caplog.set_level(logging.WARNING, logger="services.feeds.http.poller")
    url = server.url("/tls")
    _, sink = make_poller(
        feed("strict", url, retries=0),
        feed("own-ca", url, ca_file=cert),
        feed("insecure", url, verify=False),
    )

    wait_for(lambda: sink.failing("strict"), what="verification failure")
    assert sink.failing("strict")[0].startswith("TLS certificate verify failed")
    wait_for(lambda: sink.messages("own-ca"), what="success with the CA file")
    wait_for(lambda: len(sink.messages("insecure")) >= 3, what="several insecure polls")
    insecure_warnings = [r for r in caplog.records if "verification is off" in r.getMessage()]
    assert len(insecure_warnings) == 1


def test_odd_next_links_are_ignored() -> None:
    page = "https://sta.example.cn/v1.1/Observations"
    assert next_page_link(b'{"value": [], "@iot.nextLink": 5}', page) is None
    assert next_page_link(b'{"value": [], "@iot.nextLink": "a b"}', page) is None
    assert next_page_link(b'{"value": [], "@iot.nextLink": "x\\u0000y"}', page) is None
    relative = next_page_link(b'{"value": [], "@iot.nextLink": "Observations?$skip=100"}', page)
    assert relative == "https://sta.example.cn/v1.1/Observations?$skip=100"
