"""The stand-ins the local stack uses instead of a cluster's machinery, checked on their own (fast).

- `support.local_kubelet.pod_command`: a rendered Deployment becomes the local process the demo runs;
- `support.prometheus_stack.alertmanager_config`: the example Alertmanager configuration made local;
- the chart's dashboard ConfigMap, rendered by the helm the control plane build provides.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from sesmonitor.api import load
from sesmonitor.render import RenderDefaults, render_all
from support.local_kubelet import FAKE_AWS_ENV, pod_command, template_hash
from support.prometheus_stack import EXAMPLE_ALERTMANAGER_CONFIG, alertmanager_config
from support.tools import tools_dir

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sesmonitor-operator"


def rendered(spec: dict[str, object] | None = None) -> dict[str, dict[str, object]]:
    doc = yaml.safe_load((ROOT / "examples" / "demo.yaml").read_text())
    doc["spec"].update(spec or {})
    return {obj["kind"]: obj for obj in render_all(load(doc), RenderDefaults())}


def test_pod_command_runs_the_deployments_container_with_local_paths(tmp_path: Path) -> None:
    objects = rendered()
    config_map = objects["ConfigMap"]
    command = pod_command(
        objects["Deployment"],
        {config_map["metadata"]["name"]: config_map},  # type: ignore[index]
        mounts_dir=tmp_path,
        listen="127.0.0.1:18000",
        base_env={"PATH": "/usr/bin", "AWS_PROFILE": "prod", "HOME": "/root"},
    )
    container = objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    # The same program and flags, with only the config path and the listen address changed.
    assert Path(command.argv[0]).name == container["command"][0]
    assert command.argv[1:] == [
        "--config",
        str(tmp_path / "config" / "config.json"),
        "--listen",
        "127.0.0.1:18000",
    ]
    assert container["args"] == ["--config", "/etc/sesmonitor/config.json", "--listen", "0.0.0.0:9435"]
    # The ConfigMap's file, byte for byte.
    assert command.files == {tmp_path / "config" / "config.json": config_map["data"]["config.json"]}  # type: ignore[index]
    config = json.loads(command.files[tmp_path / "config" / "config.json"])
    assert config["monitor"] == "mail/prod"
    # The container's env, fake credentials, and nothing of the machine's AWS setup.
    assert command.env["AWS_REGION"] == "us-east-1"
    assert {k: command.env[k] for k in FAKE_AWS_ENV} == FAKE_AWS_ENV
    assert "AWS_PROFILE" not in command.env
    assert command.env["PATH"] == "/usr/bin"


def test_pod_command_resolves_secret_env(tmp_path: Path) -> None:
    objects = rendered({"aws": {"credentialsSecretRef": {"name": "ses-keys"}}})
    config_map = objects["ConfigMap"]
    secrets = {
        ("ses-keys", "AWS_ACCESS_KEY_ID"): "AKIDEXAMPLE",
        ("ses-keys", "AWS_SECRET_ACCESS_KEY"): "s3cr3t",
    }
    command = pod_command(
        objects["Deployment"],
        {config_map["metadata"]["name"]: config_map},  # type: ignore[index]
        mounts_dir=tmp_path,
        listen="127.0.0.1:18001",
        secret=lambda name, key: secrets.get((name, key)),
        base_env={},
    )
    assert command.env["AWS_ACCESS_KEY_ID"] == "AKIDEXAMPLE"
    assert command.env["AWS_SECRET_ACCESS_KEY"] == "s3cr3t"


def test_template_hash_follows_the_config_map() -> None:
    one, two = rendered(), rendered({"window": "10m"})
    cm_one = {one["ConfigMap"]["metadata"]["name"]: one["ConfigMap"]}  # type: ignore[index]
    cm_two = {two["ConfigMap"]["metadata"]["name"]: two["ConfigMap"]}  # type: ignore[index]
    assert template_hash(one["Deployment"], cm_one) == template_hash(one["Deployment"], cm_one)
    assert template_hash(one["Deployment"], cm_one) != template_hash(two["Deployment"], cm_two)


def test_alertmanager_config_keeps_the_examples_routing_with_webhooks() -> None:
    example = yaml.safe_load(EXAMPLE_ALERTMANAGER_CONFIG.read_text())
    config = alertmanager_config(lambda name: f"http://127.0.0.1:1/{name}")
    assert config["inhibit_rules"] == example["inhibit_rules"]
    assert config["route"]["routes"] == example["route"]["routes"]
    assert config["route"]["group_by"] == example["route"]["group_by"]
    assert config["route"]["group_wait"] == "1s"
    assert [r["name"] for r in config["receivers"]] == [r["name"] for r in example["receivers"]]
    for receiver in config["receivers"]:
        assert receiver["webhook_configs"] == [
            {"url": f"http://127.0.0.1:1/{receiver['name']}", "send_resolved": True}
        ]
    assert "opsgenie_api_url" not in config["global"]


def helm_template(*args: str) -> list[dict[str, object]]:
    proc = subprocess.run(
        [
            str(tools_dir() / "bin" / "helm"),
            "template",
            "sesmonitor-operator",
            str(CHART),
            "-n",
            "monitoring",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def test_chart_ships_the_dashboard_for_grafanas_sidecar() -> None:
    maps = [d for d in helm_template() if d["kind"] == "ConfigMap" and "sesmonitor.json" in d.get("data", {})]  # type: ignore[operator]
    assert len(maps) == 1
    dashboard = maps[0]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"  # type: ignore[index]
    assert dashboard["metadata"]["namespace"] == "monitoring"  # type: ignore[index]
    shipped = json.loads(dashboard["data"]["sesmonitor.json"])  # type: ignore[index]
    assert shipped == json.loads((CHART / "dashboards" / "sesmonitor.json").read_text())
    # Another namespace, folder annotation, and off.
    moved = next(
        d
        for d in helm_template(
            "--set", "dashboard.namespace=grafana", "--set", "dashboard.annotations.grafana_folder=SES"
        )
        if d["kind"] == "ConfigMap" and "sesmonitor.json" in d.get("data", {})  # type: ignore[operator]
    )
    assert moved["metadata"]["namespace"] == "grafana"  # type: ignore[index]
    assert moved["metadata"]["annotations"] == {"grafana_folder": "SES"}  # type: ignore[index]
    off = helm_template("--set", "dashboard.enabled=false")
    assert not [d for d in off if d["kind"] == "ConfigMap" and "sesmonitor.json" in d.get("data", {})]  # type: ignore[operator]
