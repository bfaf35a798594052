"""How often the refresh reads what changes slowly. Pure functions.

A refresh every minute keeps the reputation rates as fresh as CloudWatch has them, but two of its reads
need not come that often:

- the counts (Send, Delivery, Bounce, Complaint, Reject): the counters add a minute only once it has
  settled (`model.counting`), minutes late anyway, and one GetMetricData returns every minute since the
  last read. CloudWatch bills GetMetricData per metric requested, so asking for the 5 counts of each
  scope every 5 minutes instead of every minute cuts the bill by 4/5 for them, and the counters come out
  the same (the cursor adds each settled minute once, however many minutes one read brings);
- a configuration set's settings (GetConfigurationSet: ReputationOptions, SendingOptions), which a person
  changes by hand, rarely. Read every 10 minutes; a set that spec.protection guards is read on every
  pass all the same, since a pause is judged on its sending switch as read in that pass.

The intervals are the exporter's configuration (`contract.ExporterConfig`'s
`counts_read_interval_seconds` and `settings_read_interval_seconds`: 5 and 10 minutes by default). A read
that fails stays due: the next pass tries again (the API's backoff paces it), not a whole interval later.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping


def due(last_read: float | None, now: float, interval: float) -> bool:
    """Whether a read last made (successfully) at `last_read` is due again at `now`; None: never made."""
    return last_read is None or now - last_read >= interval


def due_sets(
    sets: Iterable[str],
    last_read: Mapping[str, float],
    now: float,
    interval: float,
    every_pass: Collection[str] = (),
) -> tuple[str, ...]:
    """The sets to read in a pass at `now`, in their listed order: those in `every_pass` (protected),
    those never read or whose last read failed (absent from `last_read`), and those read `interval` ago."""
    return tuple(name for name in sets if name in every_pass or due(last_read.get(name), now, interval))
