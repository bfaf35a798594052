"""The SesMonitor status, pure: one module per condition family, and `compute` for the whole status.

In: what a reconcile pass saw (`shapes.ReconcileOutcome`), the exporter's /status or why there is none
(`shapes.ExporterReading`), the spec, the previous status and `now`. Out: the new status, the merge
patch that writes it (None when nothing changed) and the `shapes.ConditionChange`s to announce.

Families: `ready` (Reconciled, Ready, Reconciling, Stalled, the last two as `kstatus` decides them),
`exporter_ready`, `rates` (BounceRateHealthy, ComplaintRateHealthy), `account` (AccountHealthy,
ConfigurationSetCounts), `events_received`, `protection`; `aws_errors` turns an exporter's AWS error
into a reason.
"""
