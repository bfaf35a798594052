"""The SES exporter: reads AWS in the background, serves Prometheus metrics and a status document.

Modules, from AWS to HTTP:
- `aws_clients`: boto3 session (standard chain, optional AssumeRole with auto refresh), timeouts, retries.
- `cloudwatch`: one GetMetricData request for every AWS/SES series; `account`: SESv2 GetAccount.
- `snapshot`: newest datapoint within the lookback, its age, the window average (pure).
- `counting`: the count counters, each settled period added once (pure).
- `state`: thread-safe last good values and per-API health; `refresher`: the background loop.
- `request_counting` / `outcomes`: AWS requests by API and outcome through botocore events.
- `collector`: the prometheus_client Collector; `status`: the /status document.
- `http_server`: /metrics, /healthz, /readyz, /status; `main`: `Exporter`, which wires them together.
"""

from sesmonitor.exporter.aws_clients import AwsClients, make_clients
from sesmonitor.exporter.main import Exporter

__all__ = ["AwsClients", "Exporter", "make_clients"]
