"""Draw the Grafana dashboard's panels with matplotlib, from a Prometheus holding the demo's data.

Every panel of deploy/helm/sesmonitor-operator/dashboards/sesmonitor.json is drawn where its gridPos puts
it, from its own queries run through Prometheus's query API (Grafana's variables filled in), so the
picture is what the dashboard shows, and a query that does not work against real data shows up empty.

    # brings up `scripts/demo.py` itself, lets it run, draws docs/dashboard.png, stops the demo:
    .venv/bin/python scripts/dashboard_png.py --run-demo 15

    # or draw from a demo (or any Prometheus) that is already running:
    .venv/bin/python scripts/dashboard_png.py --prometheus http://127.0.0.1:9090 --minutes 30

Needs matplotlib (`.venv/bin/pip install matplotlib`; not part of the project's locks).
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "helm" / "sesmonitor-operator" / "dashboards" / "sesmonitor.json"
OUT = ROOT / "docs" / "dashboard.png"
UNIT_WIDTH = 0.72  # inches per gridPos column (24 columns)
UNIT_HEIGHT = 0.42  # inches per gridPos row
COLORS = {"green": "#56a64b", "orange": "#ff9830", "red": "#e02f44", "transparent": None}


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


class PrometheusAPI:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _api(self, path: str, **params: Any) -> Any:
        doc = _get(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        if doc.get("status") != "success":
            raise RuntimeError(f"{path}: {doc}")
        return doc["data"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._api("query_range", query=expr, start=start, end=end, step=step)[
            "result"
        ]
        return result

    def first_sample(self, expr: str) -> float | None:
        result = self._api("query", query=f"min_over_time(timestamp({expr})[6h:15s])")["result"]
        return None if not result else min(float(r["value"][1]) for r in result)


def substitute(expr: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables[m.group(1)], expr)


def legend(fmt: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt) or str(labels)


def format_value(value: float, unit: str) -> str:
    if unit == "percentunit":
        return f"{value * 100:.3g}%"
    if unit == "s":
        return f"{value:.0f}s"
    return f"{value:.4g}"


class Layout:
    """Figure coordinates for Grafana's gridPos (24 columns, rows of UNIT_HEIGHT)."""

    def __init__(self, rows: int) -> None:
        self.width = 24 * UNIT_WIDTH
        self.top = 0.7  # inches above the first row, for the title
        self.height = rows * UNIT_HEIGHT + self.top + 0.2

    def rect(self, grid: dict[str, int], pad: float = 0.08) -> tuple[float, float, float, float]:
        fw, fh = self.width, self.height
        x = grid["x"] * UNIT_WIDTH / fw
        w = grid["w"] * UNIT_WIDTH / fw
        y = 1 - (self.top + (grid["y"] + grid["h"]) * UNIT_HEIGHT) / fh
        h = grid["h"] * UNIT_HEIGHT / fh
        return (x + pad * 4 / fw, y + pad * 6 / fh, w - pad * 8 / fw, h - pad * 14 / fh)


def fetch(
    api: PrometheusAPI, panel: dict[str, Any], variables: dict[str, str], span: tuple[float, float, float]
) -> list[tuple[str, list[tuple[float, float]]]]:
    """(legend, [(t, v), ...]) for every series of every query of `panel`."""
    series = []
    for target in panel["targets"]:
        for result in api.query_range(substitute(target["expr"], variables), *span):
            points = [(float(t), float(v)) for t, v in result["values"]]
            series.append((legend(target.get("legendFormat", ""), result["metric"]), points))
    return series


def stat_style(value: float, defaults: dict[str, Any]) -> tuple[str, str | None]:
    """The text and background colour Grafana's stat panel gives `value` (thresholds, then mappings)."""
    steps = defaults.get("thresholds", {}).get("steps", [])
    color = None
    for step in steps:
        if step["value"] is None or value >= step["value"]:
            color = COLORS.get(step["color"], step["color"])
    text = format_value(value, defaults.get("unit", "short"))
    for mapping in defaults.get("mappings", []):
        hit = mapping.get("options", {}).get(f"{value:g}")
        if hit:
            text, color = hit["text"], COLORS.get(hit.get("color", ""), color)
    return text, color


def draw_stat(ax: Any, series: list[Any], defaults: dict[str, Any]) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    if not series or not series[0][1]:
        ax.text(0.5, 0.45, "No data", ha="center", va="center", color="#9fa7b3", fontsize=14)
        return
    text, color = stat_style(series[0][1][-1][1], defaults)
    ax.set_facecolor(color or "#181b1f")
    ax.text(0.5, 0.45, text, ha="center", va="center", color="white", fontsize=22, weight="bold")


def draw_timeseries(
    ax: Any, series: list[Any], defaults: dict[str, Any], span: tuple[float, float, float]
) -> None:
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter

    ax.set_xlim(datetime.datetime.fromtimestamp(span[0]), datetime.datetime.fromtimestamp(span[1]))
    if not series:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", color="#9fa7b3", transform=ax.transAxes)
    for name, points in series:
        xs = [datetime.datetime.fromtimestamp(t) for t, _ in points]
        ax.plot(xs, [v for _, v in points], linewidth=1.6, label=name[:60])
    steps = [s for s in defaults.get("thresholds", {}).get("steps", []) if s["value"] is not None]
    if steps and defaults.get("custom", {}).get("thresholdsStyle", {}).get("mode", "off") != "off":
        for step in steps:
            color = COLORS.get(step["color"], step["color"])
            if color:
                ax.axhline(step["value"], color=color, linestyle="--", linewidth=1)
        highest = [steps[-1]["value"] * 1.6] + [v * 1.1 for _, points in series for _, v in points]
        ax.set_ylim(bottom=0, top=max(highest))
    if "max" in defaults:
        ax.set_ylim(bottom=defaults.get("min", 0), top=defaults["max"] * 1.05)
    if defaults.get("unit") == "percentunit":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v * 100:.3g}%"))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))  # type: ignore[no-untyped-call]
    ax.grid(color="#2c3235", linewidth=0.5)
    if series:
        ax.legend(
            fontsize=6.5, loc="upper left", facecolor="#181b1f", edgecolor="#2c3235", labelcolor="#d8d9da"
        )


def draw(api: PrometheusAPI, out: Path, *, minutes: float | None, window: str, monitor: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dashboard = json.loads(DASHBOARD.read_text())
    variables = {"sesmonitor": monitor, "window": window, "__rate_interval": "1m", "__interval": "15s"}
    end = time.time()
    if minutes is None:
        first = api.first_sample("aws_ses_account_enforcement_status")
        start = first if first is not None else end - 3600
    else:
        start = end - minutes * 60
    span = (start, end, max(5.0, (end - start) / 300))
    panels = dashboard["panels"]
    layout = Layout(max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels))
    fig = plt.figure(figsize=(layout.width, layout.height), dpi=90, facecolor="#111217")
    when = " to ".join(datetime.datetime.fromtimestamp(t).strftime("%H:%M") for t in (start, end))
    shown = "All" if monitor == ".+" else monitor
    title = f"{dashboard['title']}   sesmonitor={shown}   window={window}   {when}"
    fig.text(0.01, 1 - 0.35 / layout.height, title, color="#d8d9da", fontsize=13, va="center")
    for panel in panels:
        if panel["type"] == "row":
            x, y, _w, _h = layout.rect(panel["gridPos"], pad=0)
            fig.text(
                x + 0.003,
                y + 0.3 / layout.height,
                panel["title"],
                color="#d8d9da",
                fontsize=12,
                weight="bold",
            )
            continue
        ax = fig.add_axes(layout.rect(panel["gridPos"]))
        ax.set_facecolor("#181b1f")
        for spine in ax.spines.values():
            spine.set_color("#2c3235")
        ax.tick_params(colors="#9fa7b3", labelsize=7)
        ax.set_title(substitute(panel["title"], variables), color="#d8d9da", fontsize=9, loc="left")
        series = fetch(api, panel, variables, span)
        defaults = panel["fieldConfig"]["defaults"]
        if panel["type"] == "stat":
            draw_stat(ax, series, defaults)
        else:
            draw_timeseries(ax, series, defaults, span)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, facecolor=fig.get_facecolor())
    print(f"wrote {out} ({(end - start) / 60:.0f} minutes of data from {api.url})")


def run_demo(minutes: float, scenario: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    workdir = Path(tempfile.mkdtemp(prefix="sesmonitor-dashboard-"))
    state = workdir / "state"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--scenario", scenario, f"--workdir={state}"],
        cwd=ROOT,
    )  # fmt: skip
    urls = state / "urls.json"  # the demo writes it once Prometheus scrapes its exporter
    while not urls.is_file():
        if proc.poll() is not None:
            raise SystemExit(f"the demo exited with {proc.returncode}")
        time.sleep(2)
    url = str(json.loads(urls.read_text())["prometheus"])
    print(f"demo started; drawing from {url} in {minutes:g} minutes", flush=True)
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the demo exited with {proc.returncode}")
        time.sleep(5)
    return proc, url, workdir


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw the sesmonitor dashboard from Prometheus data (PNG).")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--prometheus", help="a running Prometheus, e.g. the demo's (URL)")
    source.add_argument(
        "--run-demo", type=float, metavar="MINUTES", help="run scripts/demo.py this long first"
    )
    parser.add_argument("--scenario", default="seed", help="with --run-demo: the demo's scenario")
    parser.add_argument("--minutes", type=float, help="time range (default: all data)")
    parser.add_argument("--window", default="5m", help="the dashboard's $window (the demo monitor's is 5m)")
    parser.add_argument("--sesmonitor", default=".+", help="the dashboard's $sesmonitor (regex; default all)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.prometheus:
        draw(PrometheusAPI(args.prometheus), args.out, minutes=args.minutes, window=args.window,
             monitor=args.sesmonitor)  # fmt: skip
        return 0
    proc, url, workdir = run_demo(args.run_demo or 15, args.scenario)
    try:
        draw(PrometheusAPI(url), args.out, minutes=args.minutes, window=args.window, monitor=args.sesmonitor)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
