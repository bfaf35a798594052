"""Debian's Prometheus and Alertmanager as local processes, configured the way the demo and e2e need.

    prom = Prometheus(workdir / "prometheus", alertmanager_url=am.url).start()
    prom.configure(scrape_configs=[...], rule_files={"mail.yaml": {...}})   # writes, checks, reloads
    prom.query('up')        # the result vector of /api/v1/query
    prom.alerts()           # /api/v1/alerts

    am = Alertmanager(workdir / "alertmanager", alertmanager_config(receivers_url)).start()

Prometheus evaluates rules every `evaluation_interval` (short here, so alerts appear in seconds) and
resends firing alerts every second (``--rules.alert.resend-delay``); Alertmanager runs without
clustering (it would bind port 9094 otherwise). Both listen on 127.0.0.1 only, on free ports.
"""

from __future__ import annotations

import contextlib
import copy
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from support.controlplane import free_port
from support.processes import ManagedProcess, ProcessError, http_ok

__all__ = [
    "Alertmanager",
    "Prometheus",
    "StackError",
    "alertmanager_config",
    "check_rules",
    "prometheus_config",
]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ALERTMANAGER_CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yaml"


class StackError(RuntimeError):
    """Prometheus or Alertmanager refused a configuration or an API call failed."""


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None)
        if found:
            return found
    raise StackError(f"none of {names} is installed (run scripts/setup.sh)")


def _get_json(url: str, timeout: float = 10) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise StackError(f"GET {url}: HTTP {exc.code}: {exc.read().decode(errors='replace')}") from exc


def _post(url: str, body: bytes = b"", timeout: float = 30) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def check_rules(*paths: Path) -> str:
    """`promtool check rules` on rule files; StackError with promtool's output when it fails."""
    proc = subprocess.run(
        [_binary("promtool"), "check", "rules", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if proc.returncode != 0:
        raise StackError(f"promtool check rules failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


# --------------------------------------------------------------------------------------------------
# Configuration files


def prometheus_config(
    scrape_configs: Sequence[Mapping[str, Any]],
    rule_files: Sequence[str],
    *,
    alertmanager: str | None,
    scrape_interval: str = "5s",
    evaluation_interval: str = "2s",
) -> dict[str, Any]:
    """A prometheus.yml: the given scrape jobs and rule files, alerting to `alertmanager` (host:port)."""
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval if _seconds(scrape_interval) < 10 else "10s",
            "evaluation_interval": evaluation_interval,
        },
        "rule_files": list(rule_files),
        "scrape_configs": [dict(job) for job in scrape_configs],
    }
    if alertmanager:
        config["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": [alertmanager]}], "timeout": "5s"}]
        }
    return config


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in ("ms", "s", "m", "h"):
        if duration.endswith(unit) and duration[: -len(unit)].replace(".", "").isdigit():
            return float(duration[: -len(unit)]) * units[unit]
    raise ValueError(f"not a simple duration: {duration!r}")


def alertmanager_config(
    receiver_url: Callable[[str], str],
    *,
    base: Mapping[str, Any] | None = None,
    group_wait: str = "1s",
    group_interval: str = "2s",
    repeat_interval: str = "1h",
) -> dict[str, Any]:
    """The example Alertmanager configuration (deploy/alertmanager/alertmanager.yaml) made local.

    Its routing tree and inhibit rules stay as they are; every receiver (Opsgenie, Slack) becomes a
    webhook at ``receiver_url(name)`` with resolved notifications on, and the timing is shortened so a
    notification arrives seconds after Prometheus sends the alert.
    """
    if base is None:
        base = yaml.safe_load(EXAMPLE_ALERTMANAGER_CONFIG.read_text())
    config = copy.deepcopy(dict(base))
    config["global"] = {"resolve_timeout": "5m"}
    route = config.setdefault("route", {"receiver": "webhook"})
    route.update(group_wait=group_wait, group_interval=group_interval, repeat_interval=repeat_interval)
    names = [r["name"] for r in config.get("receivers", [])] or [route["receiver"]]
    config["receivers"] = [
        {"name": name, "webhook_configs": [{"url": receiver_url(name), "send_resolved": True}]}
        for name in names
    ]
    return config


# --------------------------------------------------------------------------------------------------
# Prometheus


class Prometheus:
    def __init__(
        self,
        workdir: Path,
        *,
        port: int = 0,
        alertmanager: str | None = None,
        scrape_interval: str = "5s",
        evaluation_interval: str = "2s",
    ) -> None:
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.alertmanager = alertmanager
        self.scrape_interval = scrape_interval
        self.evaluation_interval = evaluation_interval
        self.config_path = self.workdir / "prometheus.yml"
        self.rules_dir = self.workdir / "rules"
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _write(self, scrape_configs: Sequence[Mapping[str, Any]], rule_files: Mapping[str, Any]) -> None:
        self.rules_dir.mkdir(parents=True, exist_ok=True)
        wanted = set()
        for name, content in rule_files.items():
            path = self.rules_dir / name
            wanted.add(path)
            path.write_text(
                yaml.safe_dump(content, sort_keys=False) if not isinstance(content, str) else content
            )
        for old in self.rules_dir.glob("*"):
            if old not in wanted:
                old.unlink()
        if wanted:
            check_rules(*sorted(wanted))
        config = prometheus_config(
            scrape_configs,
            [str(self.rules_dir / "*.yaml")],
            alertmanager=self.alertmanager,
            scrape_interval=self.scrape_interval,
            evaluation_interval=self.evaluation_interval,
        )
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    def start(
        self,
        scrape_configs: Sequence[Mapping[str, Any]] = (),
        rule_files: Mapping[str, Any] | None = None,
        timeout: float = 60,
    ) -> Prometheus:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write(scrape_configs, rule_files or {})
        self.process = ManagedProcess(
            "prometheus",
            [
                _binary("prometheus"),
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                "--storage.tsdb.retention.time=1d",
                f"--web.listen-address=127.0.0.1:{self.port}",
                f"--web.external-url={self.url}/",
                "--web.enable-lifecycle",
                "--rules.alert.resend-delay=1s",
                "--log.level=warn",
            ],
            self.workdir / "prometheus.log",
            cwd=self.workdir,
        ).start()
        self.process.wait_ready(lambda: http_ok(f"{self.url}/-/ready"), timeout, "ready")
        return self

    def configure(self, scrape_configs: Sequence[Mapping[str, Any]], rule_files: Mapping[str, Any]) -> None:
        """Write the scrape jobs and rule files (checked by promtool first), then reload."""
        self._write(scrape_configs, rule_files)
        self.reload()

    def reload(self) -> None:
        status, text = _post(f"{self.url}/-/reload")
        if status != 200:
            raise StackError(f"Prometheus refused its configuration: HTTP {status}: {text}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    # -- HTTP API ------------------------------------------------------------------------------------

    def api(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        doc = _get_json(f"{self.url}/api/v1/{path}" + (f"?{query}" if query else ""))
        if doc.get("status") != "success":
            raise StackError(f"/api/v1/{path}: {doc}")
        return doc["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """The series `expr` evaluates to: {"metric": {...}, "value": [t, "v"]} each for an instant vector,
        {"metric", "values"} for a range vector; a scalar or string gives []."""
        data = self.api("query", query=expr, time=at)
        result: list[dict[str, Any]] = data["result"] if data["resultType"] in ("vector", "matrix") else []
        return result

    def query_value(self, expr: str) -> float | None:
        """The single value of `expr`, None when it is empty; StackError when it has several series."""
        result = self.query(expr)
        if not result:
            return None
        if len(result) > 1:
            raise StackError(f"{expr} has {len(result)} series, expected one")
        return float(result[0]["value"][1])

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        data = self.api("query_range", query=expr, start=start, end=end, step=step)
        result: list[dict[str, Any]] = data["result"]
        return result

    def alerts(self) -> list[dict[str, Any]]:
        """Pending and firing alerts: each {"labels", "annotations", "state", "activeAt", "value"}."""
        result: list[dict[str, Any]] = self.api("alerts")["alerts"]
        return result

    def rules(self) -> list[dict[str, Any]]:
        """The loaded rule groups, with each rule's health and lastError."""
        result: list[dict[str, Any]] = self.api("rules")["groups"]
        return result

    def targets(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return result

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(StackError, OSError):
                if predicate():
                    return
            if time.monotonic() > deadline:
                raise StackError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.5)


# --------------------------------------------------------------------------------------------------
# Alertmanager


class Alertmanager:
    def __init__(self, workdir: Path, config: Mapping[str, Any], *, port: int = 0) -> None:
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.config = dict(config)
        self.config_path = self.workdir / "alertmanager.yml"
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Alertmanager:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        proc = subprocess.run(
            [_binary("amtool", "prometheus-alertmanager-amtool"), "check-config", str(self.config_path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if proc.returncode != 0:
            raise StackError(f"amtool check-config failed:\n{proc.stdout}\n{proc.stderr}")
        self.process = ManagedProcess(
            "alertmanager",
            [
                _binary("prometheus-alertmanager", "alertmanager"),
                f"--config.file={self.config_path}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                f"--web.external-url={self.url}/",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            self.workdir / "alertmanager.log",
            cwd=self.workdir,
        ).start()
        self.process.wait_ready(lambda: http_ok(f"{self.url}/-/ready"), timeout, "ready")
        return self

    def alerts(self, active: bool = True) -> list[dict[str, Any]]:
        """Alertmanager's view (API v2): each with labels, annotations, status.state (active/suppressed)."""
        query = "" if not active else "?active=true&silenced=false"
        result: list[dict[str, Any]] = _get_json(f"{self.url}/api/v2/alerts{query}")
        return result

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def stop_all(*items: Prometheus | Alertmanager | None) -> None:
    for item in items:
        if item is not None:
            with contextlib.suppress(ProcessError, OSError):
                item.stop()
