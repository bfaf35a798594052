"""The resume requests the operator hands the exporter through its ConfigMap (a mounted file).

The file is `{"requests": {"<set>": "<RFC 3339 time the operator saw the annotation>"}}`, the ConfigMap
key contract.RESUME_FILE_NAME mounted read-only at contract.CONTROL_MOUNT_PATH. Kubelet replaces it in
place (an atomic symlink swap) about a minute after the ConfigMap changes. It is read only when it
changed (inode, mtime, size), so polling it every few seconds costs a stat. A missing file holds no
requests; a malformed one is logged once and read as none: a bad file must never stop the exporter.
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


def parse_requests(text: str) -> dict[str, float]:
    """The requests as {set: epoch seconds}; ValueError says what is wrong."""
    doc = json.loads(text)
    requests = doc.get("requests") if isinstance(doc, dict) else None
    if not isinstance(requests, dict):
        raise ValueError('"requests": missing or not an object')
    out = {}
    for name, at in requests.items():
        if not isinstance(name, str) or not isinstance(at, str):
            raise ValueError(f"requests.{name}: not a set name with an RFC 3339 time")
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
        if when.tzinfo is None:
            raise ValueError(f"requests.{name}: {at!r} has no time zone")
        out[name] = when.timestamp()
    return out


class ControlFile:
    """Thread-safe: the watcher thread and the refresh loop both read it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._signature: Signature | None = None
        self._requests: dict[str, float] = {}
        self._logged: Signature | None = None  # the malformed version already logged

    def read(self) -> Mapping[str, float]:
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

    def _load(self, signature: Signature) -> dict[str, float]:
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
