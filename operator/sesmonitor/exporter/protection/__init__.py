"""spec.protection: pause a configuration set whose rate held too high, resume it when a person asks.

In: each refresh pass's sending state and datapoints (from `refresh`), the resume requests in the
control file the operator writes. Out: SESv2 PutConfigurationSetSendingOptions and TagResource
calls (Enforce only) and a `model.protection.ProtectionView` for `serving`.
"""
