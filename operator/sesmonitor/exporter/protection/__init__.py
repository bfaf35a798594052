"""spec.protection: pause a configuration set whose rate held too high, resume it when a person asks;
pause a listed tenant whose reputation impact held HIGH (`tenant_target`), never resuming it.

In: each refresh pass's sending state and datapoints (from `refresh`), the resume requests in the
control file the operator writes, the protected tenants' reputation entities (read here). Out: SESv2
PutConfigurationSetSendingOptions, UpdateReputationEntityCustomerManagedStatus and TagResource calls
(Enforce only) and a `model.protection.ProtectionView` for `serving`.
"""
