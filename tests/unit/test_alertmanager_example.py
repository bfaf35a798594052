"""deploy/alertmanager/alertmanager.yaml, made local by `support.monitoring.alertmanager_config` for the
demo and the e2e tier: the example's routing and inhibit rules stay, every receiver becomes a webhook,
and Alertmanager's own checker (Debian's amtool) accepts the result.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from support.monitoring import EXAMPLE_ALERTMANAGER_CONFIG, alertmanager_config


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


def test_amtool_accepts_the_example_and_the_local_config(tmp_path: Path) -> None:
    amtool = shutil.which("amtool") or shutil.which("prometheus-alertmanager-amtool")
    assert amtool, "amtool (Debian's prometheus-alertmanager) is missing: run scripts/setup.sh"
    local = tmp_path / "local.yaml"
    local.write_text(yaml.safe_dump(alertmanager_config(lambda name: f"http://198.19.0.1:9/{name}")))
    for path in (EXAMPLE_ALERTMANAGER_CONFIG, local):
        proc = subprocess.run(
            [amtool, "check-config", str(path)], capture_output=True, text=True, check=False, timeout=60
        )
        assert proc.returncode == 0, f"{path}: {proc.stdout}{proc.stderr}"
