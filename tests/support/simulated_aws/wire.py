"""What a request to "AWS" is, read off the wire: its service, operation, protocol and signer.

The fault proxy names each request this way to record it, to fault it, and to route it to moto or a
stand-in. Protocols: "cbor" (Smithy RPC v2 CBOR, CloudWatch from YACE's Go SDK), "json" (by
X-Amz-Target), "query" (AWS query forms: CloudWatch from older SDKs, STS), "rest-json" (the SESv2
routes of `simulated_aws.sesv2`) and "other", named by method and path.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from support.simulated_aws import cbor, sesv2
from support.simulated_aws.sts import signer


@dataclass
class Call:
    service: str
    operation: str
    protocol: str
    access_key: str
    body: bytes
    metrics_requested: int = 0  # GetMetricData queries in the request (what CloudWatch bills)


def identify(method: str, path: str, headers: Any, body: bytes) -> Call:
    service, key = signer(headers)
    content_type = headers.get("Content-Type", "")
    if headers.get("smithy-protocol") == "rpc-v2-cbor" or "application/cbor" in content_type:
        operation = path.rstrip("/").rsplit("/", 1)[-1]
        call = Call(service or "monitoring", operation, "cbor", key, body)
        if operation == "GetMetricData":
            doc = cbor.loads(body) or {}
            call.metrics_requested = len(doc.get("MetricDataQueries", []))
        return call
    if headers.get("X-Amz-Target"):
        operation = headers["X-Amz-Target"].rsplit(".", 1)[-1]
        call = Call(service, operation, "json", key, body)
        if operation == "GetMetricData":
            call.metrics_requested = len(json.loads(body or b"{}").get("MetricDataQueries", []))
        return call
    if "x-www-form-urlencoded" in content_type:
        form = urllib.parse.parse_qs(body.decode())
        operation = form.get("Action", [""])[0]
        call = Call(service, operation, "query", key, body)
        if operation == "GetMetricData":
            call.metrics_requested = sum(
                1 for k in form if k.startswith("MetricDataQueries.member.") and k.endswith(".Id")
            )
        return call
    rest_operation = sesv2.operation(method, path)
    if rest_operation is not None:
        return Call(service or "ses", rest_operation, "rest-json", key, body)
    return Call(service, f"{method} {path.split('?', 1)[0]}", "other", key, body)
