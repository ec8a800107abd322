"""Config validation: good files load, bad ones name the file, key and problem."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from services.config import ConfigError, load_config, load_demo_config
from services.model import Severity

MINIMAL = """
[broker]
url = "mqtt://127.0.0.1:1883"
[[feeds]]
name = "air"
topic = "yiyang/env/air/#"
format = "json"
domain = "environment"
[[rules]]
metric = "pm25"
high = 75
high_high = 150
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_config_from_the_issue_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.broker is not None
    assert config.broker.address.host == "127.0.0.1"
    assert config.broker.address.port == 1883
    assert [feed.name for feed in config.feeds] == ["air"]
    assert config.feeds[0].domain == "environment"
    rule = config.rules[0]
    assert (rule.metric, rule.high, rule.high_high, rule.low) == ("pm25", 75.0, 150.0, None)
    assert rule.severities["high_high"] is Severity.HIGH


def test_kpi_decimals(tmp_path: Path) -> None:
    text = (
        '[[kpis]]\nname = "a"\nmetric = "m"\ndecimals = 1\n'
        '[[kpis]]\nname = "b"\nmetric = "m"\naggregate = "count"\n'
        '[[kpis]]\nname = "c"\nmetric = "m"\n'
    )
    assert [kpi.decimals for kpi in load_config(write(tmp_path, text)).kpis] == [1, 0, None]


def test_demo_config_ships_and_is_valid() -> None:
    config = load_demo_config()
    assert config.demo
    assert {feed.name for feed in config.feeds} >= {"environment", "water"}
    assert config.kpis


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[broker]\nurl = "http://x"\n', "broker.url", "mqtt://"),
        ('[broker]\nurl = "mqtt://h"\npassword = "x"\n', "broker.password", "password_env"),
        (MINIMAL.replace('topic = "yiyang/env/air/#"', 'topic = "a/#/b"'), "feeds[0].topic", "#"),
        (MINIMAL.replace("high = 75", 'high = "75"'), "rules[0].high", "must be a number"),
        (MINIMAL.replace("high = 75", "high = 175"), "rules[0].high_high", "greater than high"),
        (MINIMAL.replace('format = "json"', 'format = "xml"'), "feeds[0].format", "one of"),
        (MINIMAL + '\n[[feeds]]\nname = "air"\ntopic = "x"\n', "feeds[1].name", "twice"),
        (MINIMAL.replace("[broker]", "[brokr]"), "brokr", "not a known setting"),
        ('[[feeds]]\nname = "a"\ntopic = "t"\n', "broker", "required"),
        (MINIMAL.replace('name = "air"\n', ""), "feeds[0].name", "is required"),
        ("[map]\ncenter = [200, 1]\n", "map.center", "latitude"),
        (MINIMAL + '\n[[rules]]\nmetric = "x"\n', "rules[1].high", "at least one"),
        (
            MINIMAL + '\n[[rules]]\nmetric = "x"\nhigh = 1\nhigh_severity = "huge"\n',
            "rules[1].high_severity",
            "unknown severity",
        ),
        (MINIMAL + "priority = 0\n", "rules[0].priority", "1 (highest)"),
        (MINIMAL + "on_delay = -1\n", "rules[0].on_delay", "between 0 and 86400"),
        (MINIMAL + "off_delay = 1e9\n", "rules[0].off_delay", "between 0 and 86400"),
        (MINIMAL + "on_samples = 0\n", "rules[0].on_samples", "between 1 and 1000"),
        (MINIMAL + "onn_delay = 5\n", "rules[0].onn_delay", "not a known setting"),
        (MINIMAL + "no_data_after = 0\n", "rules[0].no_data_after", "more than 0"),
        (MINIMAL + "rate_limit = -1\n", "rules[0].rate_limit", "more than 0"),
        (MINIMAL + "rate_window = 0\n", "rules[0].rate_window", "more than 0"),
        ("[alarms]\nnote_required_priority = 5\n", "alarms.note_required_priority", "0 (never)"),
        ("[alarms]\nchattering_raises = 1\n", "alarms.chattering_raises", "between 2 and"),
        ("[alarms]\nchattering_window = 0\n", "alarms.chattering_window", "greater than 0"),
        (
            MINIMAL + 'suppressed_when = "maintenance is on"\n',
            "rules[0].suppressed_when",
            "'<metric> <comparison> <number>'",
        ),
        (MINIMAL + 'suppressed_when = "maintenance == x"\n', "rules[0].suppressed_when", "e.g."),
        ('[sharing]\nprefix = "a/#"\n', "sharing.prefix", "wildcard"),
        ('[sharing]\nbroker = "nope"\n', "sharing.broker", "no configured broker"),
        (MINIMAL.replace('name = "air"', 'name = "sharing"'), "feeds[0].name", "choose another"),
    ],
)
def test_bad_config_names_file_key_and_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert error.source == str(path)
    assert error.key == key
    assert problem in error.problem
    assert str(path) in str(error) and key in str(error)


def test_rule_priority_delays_and_texts(tmp_path: Path) -> None:
    text = MINIMAL + (
        'id = "pm25-high"\npriority = 1\non_delay = 30\noff_samples = 3\n'
        'description = "PM2.5 above the limit"\nguidance = "Check the nearest station"\n'
    )
    (rule,) = load_config(write(tmp_path, text)).rules
    assert rule.name == "pm25-high"
    assert set(rule.severities.values()) == {Severity.CRITICAL}
    assert (rule.on_delay, rule.off_delay, rule.on_samples, rule.off_samples) == (30, 0, 1, 3)
    assert rule.guidance == "Check the nearest station"
    silent = MINIMAL + '[[rules]]\nmetric = "level"\nno_data_after = 900\n'
    assert load_config(write(tmp_path, silent)).rules[1].no_data_after == 900
    assert load_config(write(tmp_path, MINIMAL + "latch = true\n")).rules[0].latch
    rate = MINIMAL + '[[rules]]\nmetric = "level"\nrate_limit = 0.5\nrate_window = 600\n'
    assert load_config(write(tmp_path, rate)).rules[1].rate_limit == 0.5


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[broker\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.toml")


def test_several_brokers_tls_http_feeds_and_mapping(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("placeholder")
    text = """
[[brokers]]
name = "city"
url = "mqtts://broker.city:8883"
protocol = "5"
ca_file = "ca.pem"
client_id = "ops-3"
clean_session = false
username = "ops"
password_env = "CITY_MQTT_PASSWORD"
[[brokers]]
name = "buses"
url = "ws://127.0.0.1:9001"
ws_path = "/ws"
separate_process = false
[[feeds]]
name = "air"
topic = "yiyang/env/#"
format = "json"
[feeds.mapping]
id = "meta.id"
metrics = ["data.pm25"]
[[feeds]]
name = "bus"
broker = "buses"
topic = "owntracks/#"
format = "owntracks"
qos = 1
[[feeds]]
name = "sta"
url = "https://sta.city/v1.1/Observations"
format = "sensorthings"
interval = 15
auth = "bearer"
token_env = "STA_TOKEN"
"""
    config = load_config(write(tmp_path, text))
    city, buses = config.brokers
    assert (city.protocol, city.ca_file, city.clean_session, city.address.tls) == (
        "5",
        ca,
        False,
        True,
    )
    assert buses.address.websocket and buses.ws_path == "/ws"
    assert city.separate_process and not buses.separate_process
    assert [feed.name for feed in config.mqtt_feeds("city")] == ["air"]
    assert [feed.name for feed in config.mqtt_feeds("buses")] == ["bus"]
    (sta,) = config.http_feeds()
    assert sta.http is not None and (sta.http.interval, sta.http.auth) == (15.0, "bearer")
    assert config.feeds[0].mapping is not None
    assert config.feeds[0].mapping.metrics == ("data.pm25",)


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = '[broker]\nurl = "mqtt://h"\nusername = "u"\npassword_env = "CITYOPS_TEST_PW"\n'
    config = load_config(write(tmp_path, text))
    assert config.broker is not None
    assert config.broker.password() is None
    monkeypatch.setenv("CITYOPS_TEST_PW", "s3cret")
    assert config.broker.password() == "s3cret"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            '[broker]\nurl = "mqtt://h"\n[[brokers]]\nname = "b"\nurl = "mqtt://h"\n',
            "brokers",
            "not both",
        ),
        (
            '[broker]\nurl = "mqtts://h"\nca_file = "missing.pem"\n',
            "broker.ca_file",
            "file not found",
        ),
        ('[broker]\nurl = "mqtt://h"\nclean_session = false\n', "broker.client_id", "persistent"),
        ('[broker]\nurl = "mqtt://h"\nprotocol = "4"\n', "broker.protocol", "one of"),
        (
            MINIMAL.replace('domain = "environment"', 'domain = "environment"\nbroker = "other"'),
            "feeds[0].broker",
            "no broker named",
        ),
        ('[[feeds]]\nname = "h"\nurl = "ftp://x"\n', "feeds[0].url", "http://"),
        (
            '[[feeds]]\nname = "h"\nurl = "http://x"\nauth = "bearer"\n',
            "feeds[0].token_env",
            "required",
        ),
        (
            '[[feeds]]\nname = "h"\nurl = "http://x"\ntoken = "t"\n',
            "feeds[0].token",
            "never stored",
        ),
        (
            MINIMAL.replace('format = "json"', 'format = "senml"').replace(
                'domain = "environment"', 'domain = "environment"\n[feeds.mapping]\nid = "x"'
            ),
            "feeds[0].mapping",
            "json",
        ),
    ],
)
def test_bad_broker_and_feed_settings(tmp_path: Path, text: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.key == key
    assert problem in caught.value.problem


class MemoryKeyring(KeyringBackend):
    """A keyring backend held in memory, standing in for the OS keyring in tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


def test_password_from_the_os_keyring_when_no_environment_variable(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    backend.set_password("cityops-mqtt", "ops", "from-keyring")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        text = '[broker]\nurl = "mqtt://h"\nusername = "ops"\npassword_keyring = "cityops-mqtt"\n'
        config = load_config(write(tmp_path, text))
        assert config.broker is not None
        assert config.broker.password() == "from-keyring"
    finally:
        keyring.set_keyring(previous)


def test_the_reserved_feed_name_is_the_sharing_feed() -> None:
    from services.config.loader import RESERVED_FEED_NAME
    from services.sharing.protocol import SHARING_FEED

    assert RESERVED_FEED_NAME == SHARING_FEED


def test_sharing_accounts_name_roles_the_auth_code_knows(tmp_path: Path) -> None:
    from services.auth.roles import Role
    from services.config.loader import ROLE_NAMES

    assert tuple(role.value for role in Role) == ROLE_NAMES
    path = write(tmp_path, '[sharing]\n[sharing.accounts]\n"acct-sup" = "supervisor"\n')
    assert load_config(path).sharing.accounts == {"acct-sup": "supervisor"}
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, '[sharing.accounts]\n"acct-x" = "boss"\n'))
    assert caught.value.key == "sharing.accounts.acct-x"


def test_history_tiers_and_the_disk_budget_are_configured(tmp_path: Path) -> None:
    defaults = load_config(write(tmp_path, "[cache]\n"))
    assert defaults.retention_days == 2.0 and defaults.alarm_history_days == 365.0
    text = (
        "[cache]\nretention_days = 3\naggregate_1m_days = 10\nmax_size_mb = 512\n"
        "alarm_history_days = 90\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.retention_days == 3 and config.history_days == {"1m": 10.0, "15m": 365.0}
    assert config.cache_max_mb == 512 and config.alarm_history_days == 90
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "[cache]\nalarm_history_days = -1\n"))
    assert caught.value.key == "cache.alarm_history_days"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "[cache]\nmax_size_mb = 0\n"))
    assert caught.value.key == "cache.max_size_mb"


def test_review_shifts_are_times_of_day(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")).review.shifts == ("07:00", "15:00", "23:00")
    config = load_config(write(tmp_path, '[review]\nshifts = ["06:00", "18:30"]\n'))
    assert config.review.shifts == ("06:00", "18:30")
    for bad in ('["25:00"]', '["7h"]', '["06:00", "6:00"]'):
        with pytest.raises(ConfigError) as caught:
            load_config(write(tmp_path, f"[review]\nshifts = {bad}\n"))
        assert caught.value.key == "review.shifts"
