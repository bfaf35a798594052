"""A webhook receiver standing in for Opsgenie and Slack: it records what Alertmanager sends.

Alertmanager's webhook_config POSTs one JSON document per notification (a group of alerts, with
`status` "firing" or "resolved" and each alert's labels and annotations). The receiver keeps every
notification in memory and in a JSON file (a list, rewritten on each arrival), and calls `on_notification`
(the demo prints them). The URL path names the receiver it stands in for: `/opsgenie-mail`, `/slack-mail`.

    with WebhookReceiver(Path("notifications.json")) as hooks:
        hooks.url("slack-mail")         # -> http://HOST:PORT/slack-mail (host: 127.0.0.1 unless given)
        hooks.wait_for(lambda n: n["status"] == "firing", timeout=120)

Run it on its own: ``python tests/support/webhook_receiver.py --port 9099 --file notifications.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `support` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.http_servers import BackgroundServer, QuietHandler, Served

__all__ = ["Notification", "WebhookReceiver", "alerts_of", "format_notification"]

Notification = dict[str, Any]


def alerts_of(notifications: Sequence[Notification]) -> Iterator[tuple[Notification, dict[str, Any]]]:
    """Every (notification, alert) pair, in arrival order."""
    for notification in notifications:
        for alert in notification.get("alerts", []):
            yield notification, alert


def format_notification(notification: Notification) -> str:
    """A few human lines, as a Slack channel would show them."""
    receiver = notification.get("_receiver") or notification.get("receiver", "?")
    lines = []
    for alert in notification.get("alerts", []):
        labels = alert.get("labels", {})
        annotations = alert.get("annotations", {})
        lines.append(
            f"[{alert.get('status', '?').upper()}] -> {receiver}: {labels.get('alertname')}"
            f" severity={labels.get('severity')} sesmonitor={labels.get('sesmonitor')}"
        )
        if annotations.get("summary"):
            lines.append(f"    {annotations['summary']}")
        if annotations.get("description"):
            lines.append(f"    {annotations['description']}")
    return "\n".join(lines)


class WebhookReceiver(Served):
    def __init__(
        self,
        path: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_notification: Callable[[Notification], None] | None = None,
    ) -> None:
        self.path = path
        self.host = host
        self.on_notification = on_notification
        self._notifications: list[Notification] = []
        self._lock = threading.Condition()
        self._http = BackgroundServer(self._handler(), host, port, name="webhook")
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("[]\n")

    @property
    def port(self) -> int:
        return self._http.port

    def url(self, receiver: str = "webhook") -> str:
        return f"http://{self.host}:{self.port}/{receiver}"

    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._notifications)

    def wait_for(self, predicate: Callable[[Notification], bool], timeout: float) -> Notification | None:
        """The first notification (already received or arriving within `timeout`) matching `predicate`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            seen = 0
            while True:
                for notification in self._notifications[seen:]:
                    if predicate(notification):
                        return notification
                seen = len(self._notifications)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._lock.wait(remaining)

    def _record(self, receiver: str, doc: Notification) -> None:
        doc["_receiver"] = receiver
        doc["_received_at"] = datetime.datetime.now(datetime.UTC).isoformat()
        with self._lock:
            self._notifications.append(doc)
            if self.path is not None:
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps(self._notifications, indent=2) + "\n")
                tmp.replace(self.path)
            self._lock.notify_all()
        if self.on_notification is not None:
            self.on_notification(doc)

    def _handler(self) -> type[QuietHandler]:
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    doc = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self.send_error(400, "not JSON")
                    return
                if not isinstance(doc, dict):
                    self.send_error(400, "not a JSON object")
                    return
                receiver._record(self.path.strip("/") or "webhook", doc)
                self.send_body(200, b"", ())

            def do_GET(self) -> None:
                self.send_body(200, json.dumps(receiver.notifications()).encode())

        return Handler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record (and print) Alertmanager webhook notifications.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--file", type=Path, default=Path("notifications.json"))
    args = parser.parse_args(argv)
    receiver = WebhookReceiver(
        args.file,
        host=args.host,
        port=args.port,
        on_notification=lambda n: print(format_notification(n), flush=True),
    ).start()
    print(json.dumps({"url": f"http://{args.host}:{receiver.port}/"}), flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    receiver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
