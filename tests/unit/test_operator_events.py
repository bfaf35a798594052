"""The Events the operator posts: their body, a long message, a refused post."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from sesmonitor.operator.events import MAX_MESSAGE_LENGTH, api_poster, event_body, shorten
from sesmonitor.operator.kube import KubeError

MONITOR = {
    "apiVersion": "sesmonitor.io/v1alpha1",
    "kind": "SesMonitor",
    "metadata": {"namespace": "mail", "name": "prod", "uid": "u-1"},
}
NOW = datetime.datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=datetime.UTC)


class Recorder:
    def __init__(self, error: KubeError | None = None) -> None:
        self.created: list[tuple[str, Mapping[str, Any]]] = []
        self.error = error

    def create_event(self, namespace: str, event: Mapping[str, Any]) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        self.created.append((namespace, event))
        return dict(event)


def test_the_body_names_the_monitor_and_what_describe_shows() -> None:
    body = event_body(MONITOR, "Warning", "AboveWarning", "bounce rate 7%", NOW)
    assert body["metadata"] == {"namespace": "mail", "generateName": "prod."}
    assert body["involvedObject"] == {
        "apiVersion": "sesmonitor.io/v1alpha1",
        "kind": "SesMonitor",
        "namespace": "mail",
        "name": "prod",
        "uid": "u-1",
    }
    assert (body["type"], body["reason"], body["message"]) == ("Warning", "AboveWarning", "bounce rate 7%")
    assert body["source"] == {"component": "sesmonitor-operator"}
    assert body["firstTimestamp"] == body["lastTimestamp"] == "2026-12-07T01:02:03.456789Z"
    assert body["eventTime"] == "2026-12-07T01:02:03.456789Z"


def test_a_long_message_keeps_its_start_and_end() -> None:
    message = "a" * 600 + "b" * 600
    short = shorten(message)
    assert len(short) == MAX_MESSAGE_LENGTH
    assert short.startswith("a" * 500)
    assert short.endswith("b" * 500)
    assert "..." in short
    assert shorten("fits") == "fits"


def test_the_poster_creates_the_event_before_it_returns() -> None:
    api = Recorder()
    api_poster(api, clock=lambda: NOW)(MONITOR, "Normal", "Reconciled", "children applied")
    assert [(ns, e["reason"]) for ns, e in api.created] == [("mail", "Reconciled")]


def test_a_refused_event_never_fails_the_reconcile(caplog: Any) -> None:
    api = Recorder(KubeError(403, "Forbidden", "events is forbidden"))
    api_poster(api, clock=lambda: NOW)(MONITOR, "Warning", "AboveWarning", "bounce rate 7%")
    assert "posting the Event AboveWarning on prod failed" in caplog.text
    assert "events is forbidden" in caplog.text
