"""The typed config: a valid file loads; every mistake names the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.config import ConfigError, load_config

VALID = """\
[pagerduty]
api_url = "https://api.pagerduty.com"
from_email = "oncall@example.com"

[kubernetes]
context = "minikube"

[github]
api_url = "https://api.github.com"

[prometheus]
url = "http://prometheus.monitoring:9090"

[[service]]
pagerduty_service = "ads-demo-service"
namespace = "default"
selector = "app=worker-app"
container = "worker-container"
repository = "PagerDuty/ads-demo-service"
branch = "main"
sources = ["*.c", "src/**/*.c"]

[[service]]
pagerduty_service = "PXYZ123"
namespace = "payments"
selector = "app=ledger"
container = "ledger"
repository = "acme/ledger"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_valid_config_loads_every_key(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID))
    assert config.pagerduty.from_email == "oncall@example.com"
    assert config.kubernetes.context == "minikube"
    assert config.prometheus is not None and config.prometheus.url.endswith(":9090")
    first, second = config.services
    assert first.sources == ("*.c", "src/**/*.c") and first.branch == "main"
    # AND defaults apply where the second service is silent
    assert second.branch == "main" and second.sources == ("*.c",)
    assert config.service_for("PXYZ123") is second


@pytest.mark.parametrize(
    ("change", "line", "key", "words"),
    [
        (('selector = "app=worker-app"', 'selector = "worker-app"'), 17, "service[0].selector", "label selector"),
        (('container = "ledger"', 'contianer = "ledger"'), 27, "service[1].contianer", "unknown key"),
        (('context = "minikube"', "context = 3"), 6, "kubernetes.context", "must be a string"),
        (('from_email = "oncall@example.com"', 'api_token = "abc"'), 3, "pagerduty.api_token", "secrets come from the environment"),
        (('repository = "acme/ledger"\n', ""), 23, "service[1]", "missing required key 'repository'"),
    ],
)
def test_mistakes_name_file_line_and_key(tmp_path: Path, change, line, key, words) -> None:
    # GIVEN a config with one mistake
    path = write(tmp_path, VALID.replace(*change))
    # WHEN it is loaded THEN the error points at the file, line and key and says what is wrong
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert (raised.value.line, raised.value.key) == (line, key)
    assert str(raised.value).startswith(f"{path}:{line}: {key}: ") and words in str(raised.value)


def test_broken_toml_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('namespace = "default"', 'namespace = "default'))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.line == 16 and "not valid TOML" in str(raised.value)


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no config file"):
        load_config(tmp_path / "absent.toml")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('[]="\n abc.1_-xyz#service')), max_size=200))
def test_random_text_loads_or_gives_one_config_error(tmp_path_factory, text: str) -> None:
    # GIVEN arbitrary text as a config file THEN it either loads or raises ConfigError, nothing else
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_text(text)
    try:
        load_config(path)
    except ConfigError as error:
        assert str(error).startswith(str(path))
