"""The shapes the exporter's concerns share, and the state (the cache) they meet in. No I/O.

`series` (a CloudWatch series and its key), `snapshot` (what is served of a series), `counting` (the
count counters), `account`, `events` (the event counts' snapshot), `record` and `protection` (what
spec.protection did and shows), and `state`: written by `refresh` and `events`, read by `serving`
as one immutable `StateView` per scrape.
"""
