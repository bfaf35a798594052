"""How long a loop that reads AWS waits after a failure: the refresh loop per API, the SQS consumer too."""

from __future__ import annotations

MAX_BACKOFF_SECONDS = 600.0
MIN_WAIT_SECONDS = 0.05  # the shortest wait between passes: a due time already past never spins a loop


def backoff_delay(interval: float, consecutive_failures: int) -> float:
    """Seconds until an API's next read: the interval, doubled per failure after the first, capped.

    The cap is 10 minutes, or the interval itself when that is longer.
    """
    if consecutive_failures <= 1:
        return interval
    doubled: float = interval * 2.0 ** (consecutive_failures - 1)
    return min(doubled, max(interval, MAX_BACKOFF_SECONDS))
