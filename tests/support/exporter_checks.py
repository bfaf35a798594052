"""Helpers for tests that drive the exporter over HTTP: a settable clock, GET, and /metrics parsing."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from sesmonitor.exporter import Exporter

MONITOR = "mail/prod"
REGION = "us-east-1"


class FakeClock:
    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@dataclass
class Scrape:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def get(exporter: Exporter, path: str) -> Scrape:
    host, port = exporter.address
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return Scrape(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode())
    finally:
        conn.close()


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_metrics(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    """The value of the one sample of `name` whose labels include `labels` (None if there is none)."""
    found = [v for (n, lab), v in samples.items() if n == name and set(labels.items()) <= set(lab)]
    assert len(found) <= 1, f"{name} {labels}: {len(found)} samples"
    return found[0] if found else None


def names(samples: Samples) -> set[str]:
    return {n for n, _ in samples}


def scrape_metrics(exporter: Exporter) -> Samples:
    response = get(exporter, "/metrics")
    assert response.status == 200
    return parse_metrics(response.body)
