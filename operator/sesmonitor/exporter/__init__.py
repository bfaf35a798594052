"""The SES exporter: reads AWS in the background, serves Prometheus metrics and a status document.

One subpackage per concern, wired together in `main` (`Exporter`); the four concerns import only the
two shared rooms below them, never each other (import-linter's "Exporter rooms" contract):

- `refresh`: the refresh loop and what it reads (CloudWatch GetMetricData, SESv2 GetAccount and
  GetConfigurationSet) into the state; hands each pass's reads to spec.protection.
- `events`: spec.events, the SQS long-poll of SES events, counted into the state.
- `protection`: spec.protection, the pure pause/resume decision and its SESv2 writes and tags.
- `serving`: /metrics, /status, /healthz, /readyz from the state (and protection's view).
- `model`: the shapes they pass around and the thread-safe state (the cache); no I/O.
- `aws`: the botocore clients, request counting, how an AWS answer is classified, the backoff.
"""

from sesmonitor.exporter.aws.clients import AwsClients, make_clients
from sesmonitor.exporter.main import Exporter

__all__ = ["AwsClients", "Exporter", "make_clients"]
