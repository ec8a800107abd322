"""Credentials never travel in a feed URL: the config refuses them, and URLs are shown and
logged redacted (one helper, ``services.addresses.redact_url``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.addresses import http_url_problem, parse_broker_url, redact_url
from services.config import ConfigError, FeedConfig, HttpSettings
from services.config.loader import parse_config
from services.feeds.http.poller import HttpFeedPoller
from services.messages import ConnectionEvent, InboxItem, RawMessage
from services.model import FeedState
from tests.helpers.polling import wait_for

SECRET = "s3cr3t-yiyang"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://ops:s3cr3t@sta.city/v1.1/Things", "https://***@sta.city/v1.1/Things"),
        ("https://ops@sta.city/x", "https://***@sta.city/x"),
        (
            "https://sta.city/obs?api_key=s3cr3t&$top=100&access_token=t0k#frag",
            "https://sta.city/obs?api_key=***&$top=100&access_token=***#frag",
        ),
        (
            "https://h/blob?sv=2020&sig=abc%2Fdef&X-Amz-Signature=f00",
            "https://h/blob?sv=2020&sig=***&X-Amz-Signature=***",
        ),
        ("https://h/users/@me?subscription-key=k", "https://h/users/@me?subscription-key=***"),
        ("https://h:8443/plain?a=1&b", "https://h:8443/plain?a=1&b"),
        ("mqtts://u:p@broker:8883", "mqtts://***@broker:8883"),
        (  # an error's text quoting the URL
            "request failed: HTTPConnectionPool(host='h', port=80): Max retries exceeded with"
            " url: /obs?token=abc&n=1 (Caused by ReadTimeoutError('read timed out'))",
            "request failed: HTTPConnectionPool(host='h', port=80): Max retries exceeded with"
            " url: /obs?token=***&n=1 (Caused by ReadTimeoutError('read timed out'))",
        ),
    ],
)
def test_redact_url_hides_user_info_and_secret_query_values(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "url",
    [f"https://ops:{SECRET}@sta.city/v1.1/Things", "https://ops@sta.city/v1.1/Things"],
    ids=["password", "user"],
)
def test_the_config_refuses_credentials_in_an_http_feed_url(url: str) -> None:
    text = f'[[feeds]]\nname = "sta"\nurl = "{url}"\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text.encode(), "city.toml")
    assert caught.value.key == "feeds[0].url"
    assert "must not contain a user name or password" in caught.value.problem
    assert 'auth = "basic"' in caught.value.problem
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [f"ftp://ops:{SECRET}@h/x", f"https://ops:{SECRET}@h:bad/x", f"https://ops:{SECRET}/x@h/"],
)
def test_other_url_problems_never_echo_a_password(url: str) -> None:
    problem = http_url_problem(url)
    assert problem
    assert SECRET not in problem


@pytest.mark.parametrize(
    "url", [f"mqtt://ops:{SECRET}@h", f"http://ops:{SECRET}@h", f"mqtt://ops:{SECRET}/x@h:1"]
)
def test_broker_url_errors_never_echo_a_password(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_broker_url(url)
    assert SECRET not in str(caught.value)


def test_a_plain_http_feed_url_is_accepted() -> None:
    text = '[[feeds]]\nname = "sta"\nurl = "https://sta.city/v1.1/Things?$top=10"\n'
    config = parse_config(text.encode(), "city.toml")
    assert config.feeds[0].http is not None
    assert config.feeds[0].http.url == "https://sta.city/v1.1/Things?$top=10"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"id": "aq-1", "pm25": 12}' if "ok" in self.path else b"no"
        self.send_response(200 if "ok" in self.path else 500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_poller_shows_and_logs_its_url_redacted(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="services.feeds")
    items: list[InboxItem] = []
    feeds = [
        FeedConfig(
            name=name,
            kind="http",
            broker="",
            http=HttpSettings(url=f"{server}/{path}?api_key={SECRET}", retries=0, interval=60),
        )
        for name, path in (("good", "ok"), ("bad", "fail"))
    ]
    poller = HttpFeedPoller(feeds, items.append)
    poller.start()
    try:
        wait_for(lambda: any(isinstance(i, RawMessage) for i in items), what="a message")
        wait_for(
            lambda: any(
                isinstance(i, ConnectionEvent) and i.state is FeedState.FAILING for i in items
            ),
            what="the failing feed",
        )
    finally:
        poller.stop()
    events = [item for item in items if isinstance(item, ConnectionEvent)]
    messages = [item for item in items if isinstance(item, RawMessage)]
    assert {event.broker for event in events} == {
        f"{server}/ok?api_key=***",
        f"{server}/fail?api_key=***",
    }
    assert [message.topic for message in messages] == [f"{server}/ok?api_key=***"]
    assert "api_key=***" in caplog.text
    assert SECRET not in caplog.text
