"""Reading `kubectl describe` of a custom resource, as a person does: kubectl prints its status as words
(`pausedByAWS` as `Paused By AWS`), one field a line, nested fields and list items indented under theirs.
"""

from __future__ import annotations

from collections.abc import Sequence


def status_fields(text: str, fields: Sequence[str]) -> str:
    """The named fields of the top-level Status (e.g. "Tenants"; not spec's field of that name), each
    with the lines indented under it."""
    out: list[str] = []
    in_status = copying = False
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if indent == 0 and line.strip():
            in_status = line.rstrip() == "Status:"
            copying = False
        elif in_status and indent == 2:  # a field of the status
            copying = line.rstrip().endswith(":") and line.strip().rstrip(":") in fields
        if copying:
            out.append(line)
    return "\n".join(out)
