"""Whether kopf peering lets this replica work, read from the peering objects kopf keeps.

kopf has no public view of its pause: it decides in its peering observer (``process_peering_event``
in kopf 1.45's ``kopf/_core/engines/peering.py``) from the object's ``status``, one entry per replica
``{identity: {priority, lifetime, lastseen}}``, and pauses while any other live replica has a higher
priority or the same one (then every replica of that priority pauses). `replica_active` applies the
same rule to the same object; `observe` reads the objects every few seconds and reports changes. The
reads use the RBAC the peering already has (get on the (Cluster)KopfPeering).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

logger = logging.getLogger(__name__)

# kopf's default lifetime of a replica's entry when the entry names none (seconds).
DEFAULT_LIFETIME: Final = 60
OBSERVE_INTERVAL: Final = 10.0

# The priority each replica gives kopf: the configured one, then the start time. A Deployment's
# replicas all get the chart's one value, and kopf pauses *every* replica of the highest priority when
# two share it, so two replicas of equal priority would both stand still. The scale keeps the configured
# priority first; within it the oldest replica wins. Kept under 2**53 (a JSON number every client reads
# exactly) for configured priorities within +-MAX_CONFIGURED_PRIORITY.
PRIORITY_SCALE: Final = 10**13  # above any start time in milliseconds until the year 2286
MAX_CONFIGURED_PRIORITY: Final = 800


def replica_priority(configured: int, started_at: float) -> int:
    """The priority for kopf of a replica configured with `configured` that started at `started_at`
    (epoch seconds): any higher configured priority wins; among equals, the replica that started first
    keeps working and a newer one waits (no hand-over at every start, as with a leader's lease). Pure."""
    if abs(configured) > MAX_CONFIGURED_PRIORITY:
        raise ValueError(
            f"peering priority {configured} is outside -{MAX_CONFIGURED_PRIORITY}..{MAX_CONFIGURED_PRIORITY}"
        )
    return configured * PRIORITY_SCALE + (PRIORITY_SCALE - 1 - int(started_at * 1000) % PRIORITY_SCALE)


def _parse(stamp: object) -> datetime.datetime | None:
    if not isinstance(stamp, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def replica_active(
    status: Mapping[str, Any] | None, identity: str, priority: int, now: datetime.datetime
) -> bool:
    """False when another live replica in ``status`` has a higher priority than ``priority``, or
    the same one; an entry is live until its ``lastseen`` plus ``lifetime``. Pure."""
    for peer, entry in (status or {}).items():
        if peer == identity or not isinstance(entry, Mapping):
            continue
        seen = _parse(entry.get("lastseen"))
        lifetime = datetime.timedelta(seconds=int(entry.get("lifetime") or DEFAULT_LIFETIME))
        if seen is not None and seen + lifetime <= now:
            continue  # dead: kopf cleans it up and ignores it
        if int(entry.get("priority") or 0) >= priority:
            return False
    return True


async def observe(
    read: Callable[[], Sequence[Mapping[str, Any] | None]],
    identity: str,
    priority: int,
    report: Callable[[bool], None],
    *,
    interval: float = OBSERVE_INTERVAL,
    clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
) -> None:
    """Every ``interval``: ``read()`` the peering objects (in a thread: it makes API calls) and
    ``report`` whether every one lets this replica work. A failed read keeps the last state."""
    while True:
        try:
            objects = await asyncio.to_thread(read)
        except Exception as exc:  # the API server or RBAC: kopf's own peering says more
            logger.debug("reading the peering objects failed: %s", exc)
        else:
            now = clock()
            report(all(replica_active((o or {}).get("status"), identity, priority, now) for o in objects))
        await asyncio.sleep(interval)
