"""The refresh: every refresh interval, AWS read into the state, each API on its own backoff.

In: the AWS clients, the config, a clock. Out: `ExporterState.record_*` calls (series snapshots, the
count counters, the account, each set's reputation and sending switches, each API's health), and per
pass the sending state and datapoints handed to a `model.protection.ProtectionStep`.
"""
