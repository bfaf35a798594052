"""The AWS boundary every concern that calls AWS shares.

In: an `ExporterConfig` (region, role, timeouts). Out: `AwsClients` (boto3 CloudWatch, SESv2, STS,
SQS, credentials refreshed on their own), botocore hooks counting every HTTP request by API and
outcome, the outcome and error code of a failed call (`outcomes`), and a failing loop's backoff.
Imports nothing of the exporter.
"""
