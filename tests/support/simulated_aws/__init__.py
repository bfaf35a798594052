"""The simulated AWS account, by service: moto's server behind a counting, fault-injecting proxy.

`support.moto_ses.SimulatedSes` puts the pieces together; each module names what moto 5.2.5 lacks and
what the proxy stands in for:

- `scenarios`: the stories an account tells (sends, bounces, complaints by minute); pure data.
- `cloudwatch`: seeding AWS/SES datapoints into moto; moto's ListMetrics repeats, fixed on the way out.
- `sesv2`: routes, and the stand-ins for GetAccount and PutConfigurationSetSendingOptions.
- `tenants`: ListTenants, GetTenant, ListTenantResources, GetReputationEntity, ListReputationEntities,
  UpdateReputationEntityCustomerManagedStatus, the tagging calls on tenant ARNs; `recommendations`:
  ListRecommendations (all lacking).
- `sts`: AssumeRole (moto's own) and who signed each request.
- `sqs_sns`: the SES event pipeline (SNS topic, SQS queue and dead-letter queue), all moto's own.
- `wire`: what a request is (service, operation, protocol); `faults`: injected errors per protocol;
  `replies`: the shape of an answer.
- `cbor_bridge` (+ the `cbor` codec): CloudWatch in Smithy RPC v2 CBOR, for YACE's Go SDK.
- `fault_proxy`: the HTTP proxy itself; `control`: its JSON endpoints for another process.
"""
