"""spec.tenants: the SES tenants of the account and what AWS decided about each (docs/tenants.md).

In: the SESv2 client and `contract.TenantsConfig`. Out: a `model.tenants.TenantsReading` per read,
through `ExporterState.record_tenants`. `parse` reads AWS's answers and `selection` picks the tenants to
watch (both pure); `reader` makes the calls, `loop` paces the reads in their own thread.
"""
