"""The resume requests the operator hands the exporter through its ConfigMap (a mounted file).

The file is `{"sequence": N, "requests": {"<set>": {"sequence": n, "at": "<RFC 3339>"}}}`, the ConfigMap
key contract.RESUME_FILE_NAME mounted read-only at contract.CONTROL_MOUNT_PATH. The operator numbers
its requests (N, the last number it gave; each set keeps its newest request); the exporter orders a
request against its pauses by that number alone, never by `at` (the operator's clock, for people), so
clock skew or a resume in the same second as the pause changes nothing. A request is read as the string
of its number; one an older operator wrote (`"<set>": "<RFC 3339>"`) as that time's string.

Kubelet replaces the file in place (an atomic symlink swap) about a minute after the ConfigMap changes.
It is read only when it changed (inode, mtime, size), so polling it every few seconds costs a stat. A
missing file holds no requests; a malformed one is logged once and read as none: a bad file must never
stop the exporter.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

POLL_SECONDS: Final = 5.0  # how often the exporter looks at the file (a stat) between refreshes
MAX_BYTES: Final = 256 * 1024  # a ConfigMap holds at most 1 MiB; ours holds one entry per protected set

Signature = tuple[int, int, int]  # (inode, mtime ns, size)


def parse_requests(text: str) -> dict[str, str]:
    """The requests as {set: the request's sequence, a string}; ValueError says what is wrong."""
    doc = json.loads(text)
    requests = doc.get("requests") if isinstance(doc, dict) else None
    if not isinstance(requests, dict):
        raise ValueError('"requests": missing or not an object')
    out = {}
    for name, entry in requests.items():
        if isinstance(entry, dict):
            sequence = entry.get("sequence")
            if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
                raise ValueError(f"requests.{name}.sequence: not a positive whole number")
            out[name] = str(sequence)
        elif isinstance(entry, str):  # an older operator's: its time, read as a string
            when = datetime.fromisoformat(entry.replace("Z", "+00:00"))
            if when.tzinfo is None:
                raise ValueError(f"requests.{name}: {entry!r} has no time zone")
            out[name] = entry
        else:
            raise ValueError(f"requests.{name}: neither a request nor an RFC 3339 time")
    return out


class ControlFile:
    """Thread-safe: the watcher thread and the refresh loop both read it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._signature: Signature | None = None
        self._requests: dict[str, str] = {}
        self._logged: Signature | None = None  # the malformed version already logged

    def read(self) -> Mapping[str, str]:
        with self._lock:
            try:
                st = os.stat(self.path)  # follows kubelet's symlink to the current version
            except OSError:
                self._signature, self._requests = None, {}
                return {}
            signature = (st.st_ino, st.st_mtime_ns, st.st_size)
            if signature != self._signature:
                self._signature = signature
                self._requests = self._load(signature)
            return dict(self._requests)

    def _load(self, signature: Signature) -> dict[str, str]:
        try:
            with self.path.open("rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
            if len(raw) > MAX_BYTES:
                raise ValueError(f"larger than {MAX_BYTES} bytes")
            return parse_requests(raw.decode("utf-8"))
        except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if self._logged != signature:
                self._logged = signature
                log.error("ignoring the resume requests in %s: %s", self.path, exc)
            return {}
