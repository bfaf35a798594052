"""The operator scale benchmark runs end to end with tiny numbers, so that the script cannot rot.

`benchmarks/operator_scale.py` starts its own control plane, stand-in exporter, operator and moto;
this runs it with a handful of monitors (about a minute) and checks that every phase reported
plausible figures, not the figures themselves (those are in docs/benchmarks.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "operator_scale.py"


def test_operator_scale_benchmark_runs_with_tiny_numbers(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable, str(SCRIPT),
            "--monitors", "5", "--namespaces", "2", "--latency-samples", "3", "--loaded-samples", "2",
            "--reconcile-interval", "4", "--steady-seconds", "6", "--settle-seconds", "3",
            "--ready-timeout", "60", "--cleanup-timeout", "3",
            "--exporter-sets", "3", "--exporter-hours", "0.25",
            "--json", str(out), "--workdir", str(tmp_path / "work"),
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads(out.read_text())

    latency = results["latency"]
    assert latency["samples"] == 3
    assert 0 < latency["children_p50_s"] <= latency["children_p99_s"] < 30
    assert results["loaded_latency"]["samples"] == 2

    throughput = results["throughput"]
    assert throughput["monitors"] == 5
    assert 0 < throughput["all_ready_s"] < 60
    assert throughput["reconciles"] >= 5
    assert throughput["operator_writes"] >= 5 * 6  # five children and the status, per monitor

    steady = results["steady"]
    assert steady["writes"] == 0, steady["by_verb_and_resource"]
    assert steady["reads"] > 0  # the timer did run (every 4 s)
    assert steady["reconciles"] >= 5

    update = results["update"]
    assert 0 < update["converged_s"] < 60
    assert update["operator_requests_by_verb"].get("patch prometheusrules") == 5

    assert results["rss_mib_0"] > 10
    assert results["rss_mib_5"] >= 10
    assert [row["configuration_sets"] for row in results["exporter_cost"]] == [0, 3]
    assert all(row["get_metric_data_per_refresh"] >= 1 for row in results["exporter_cost"])
    assert "monitors" in proc.stdout  # the printed report
