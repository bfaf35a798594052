"""spec.findings: the account's open reputation findings (VDM's advisor, SESv2 ListRecommendations).

In: the SESv2 client, `contract.FindingsConfig`, and whether VDM is on (GetAccount, through the state's
view: the refresh loop reads it). Out: a `model.findings.FindingsReading` per read through
`ExporterState.record_findings`; with VDM off, no call at all and the status says why. `reader` makes
the paced calls (at most 1 a second, ListRecommendations' limit), `loop` paces the reads.
"""
