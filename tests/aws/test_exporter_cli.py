"""`sesmonitor-exporter` as a process: configuration errors before binding, clean stop on signals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sesmonitor.cli.exporter_main import main, parse_listen

COMMAND = [sys.executable, "-m", "sesmonitor.cli.exporter_main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], check=False, capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
    )


def write(tmp_path: Path, doc: object) -> str:
    path = tmp_path / "config.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


@pytest.fixture
def occupied_port():
    """A port someone already listens on: binding it would fail with exit code 1, not 2."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ({"region": "us-east-1"}, "monitor: required"),
        ({"monitor": "a/b", "region": "us-east-1", "colour": "red"}, "unknown field(s): colour"),
        (
            {"monitor": "a/b", "region": "us-east-1", "refresh_interval_seconds": 0},
            "refresh_interval_seconds",
        ),
        ({"monitor": "a/b", "region": "us-east-1", "retry_mode": "eager"}, "retry_mode"),
        ({"monitor": "a/b", "region": "us-east-1", "period_seconds": 90}, "period_seconds"),
        ({"monitor": "a/b", "region": "us-east-1", "window_seconds": 0}, "window_seconds"),
        ({"monitor": "a/b", "region": "not a region!"}, "not a region!"),
    ],
)
def test_bad_config_exits_2_naming_the_problem_before_binding(tmp_path, occupied_port, doc, message):
    path = str(tmp_path / "missing.json") if doc is None else write(tmp_path, doc)
    result = run(["--config", path, "--listen", f"127.0.0.1:{occupied_port}"])
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert path in result.stderr
    assert "cannot listen" not in result.stderr


def test_bad_arguments_exit_2():
    assert main(["--config", "x.json", "--listen", "nowhere"]) == 2
    assert main([]) == 2
    assert parse_listen("[::1]:9435") == ("::1", 9435)
    assert parse_listen(":9435") == ("::", 9435)
    assert parse_listen("[::]:9435") == ("::", 9435)
    assert parse_listen("0.0.0.0:9435") == ("0.0.0.0", 9435)


def test_port_in_use_exits_1(tmp_path, occupied_port):
    path = write(tmp_path, {"monitor": "a/b", "region": "us-east-1", "endpoint_url": "http://127.0.0.1:9"})
    result = run(["--config", path, "--listen", f"127.0.0.1:{occupied_port}"])
    assert result.returncode == 1
    assert "cannot listen" in result.stderr


def wait_ready(url: str, timeout: float = 20) -> None:
    """Until the exporter has read AWS (/status ready; /readyz passes as soon as it serves)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/status", timeout=2) as response:
                if json.loads(response.read())["ready"]:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never became ready")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_and_stops_cleanly_on_signals(simulated_ses, tmp_path, sig):
    ses = simulated_ses("seed")
    port = free_port()
    path = write(
        tmp_path,
        {"monitor": "mail/prod", "region": "us-east-1", "endpoint_url": ses.endpoint_url, "max_attempts": 1},
    )
    proc = subprocess.Popen(
        [*COMMAND, "--config", path, "--listen", f":{port}", "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        body = urllib.request.urlopen(url + "/metrics").read().decode()
        assert 'aws_ses_reputation_bounce_rate_average{configuration_set="",region="us-east-1"' in body
        # ":PORT" is all interfaces of both families: IPv6 clients reach the same process.
        ipv6 = urllib.request.urlopen(f"http://[::1]:{port}/metrics").read().decode()
        assert 'aws_ses_reputation_bounce_rate_average{configuration_set="",region="us-east-1"' in ipv6
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any("stopped" in line["message"] for line in lines)
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    assert ses.proxy.count("GetMetricData") >= 1
