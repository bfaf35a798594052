"""The CBOR translation for YACE: CloudWatch in Smithy RPC v2 CBOR, bridged to the JSON moto speaks.

The AWS Go SDK v2 (which YACE uses) speaks Smithy RPC v2 CBOR to CloudWatch; moto 5.2.5 does not. The
fault proxy hands such a request to `bridge`, which sends moto the awsJson1_0 equivalent and encodes its
answer back, typed by botocore's CloudWatch model (timestamps as tag 1, numbers as their shapes say),
errors included. The codec itself is `simulated_aws.cbor`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable
from typing import Any

import botocore.session

from support.simulated_aws import cbor
from support.simulated_aws.cloudwatch import CLOUDWATCH_TARGET_PREFIX, unique_metrics
from support.simulated_aws.replies import Reply

# (body, headers) -> moto's reply to that POST /
Forward = Callable[[bytes, list[tuple[str, str]]], Reply]


@functools.cache
def cloudwatch_model() -> Any:
    return botocore.session.get_session().get_service_model("cloudwatch")


def to_cbor_value(value: Any, shape: Any) -> Any:
    """moto's JSON answer, typed by the botocore shape, as the values a CBOR SDK expects."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        return {
            k: to_cbor_value(v, shape.members[k])
            for k, v in value.items()
            if k in shape.members and v is not None
        }
    if kind == "list":
        return [to_cbor_value(v, shape.member) for v in value]
    if kind == "map":
        return {k: to_cbor_value(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, str):
            try:
                return cbor.Tagged(1, float(value))
            except ValueError:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                return cbor.Tagged(1, parsed.timestamp())
        return cbor.Tagged(1, float(value))
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind == "blob":
        return base64.b64decode(value) if isinstance(value, str) else value
    return value


def from_cbor_value(value: Any) -> Any:
    """A decoded CBOR request as JSON-ready values (tag 1 timestamps become epoch seconds)."""
    if isinstance(value, cbor.Tagged):
        return from_cbor_value(value.value)
    if isinstance(value, dict):
        return {k: from_cbor_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_cbor_value(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def bridge(operation: str, body: bytes, headers: Iterable[tuple[str, str]], forward: Forward) -> Reply:
    """One CBOR request through moto's awsJson1_0, answered in CBOR."""
    params = from_cbor_value(cbor.loads(body) or {})
    json_headers = [(k, v) for k, v in headers if k.lower() not in ("content-type", "smithy-protocol")]
    json_headers += [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("X-Amz-Target", f"{CLOUDWATCH_TARGET_PREFIX}.{operation}"),
    ]
    status, upstream_headers, payload = forward(json.dumps(params).encode(), json_headers)
    doc = json.loads(payload or b"{}")
    if operation == "ListMetrics" and status == 200:
        doc = unique_metrics(doc)
    out_headers = [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")]
    out_headers += [(k, v) for k, v in upstream_headers if k.lower() == "x-amzn-query-error"]
    if status >= 300:
        error_type = str(doc.get("__type", "InternalFailure"))
        message = doc.get("message") or doc.get("Message") or ""
        return status, out_headers, cbor.dumps({"__type": error_type, "message": message})
    shape = cloudwatch_model().operation_model(operation).output_shape
    value = to_cbor_value(doc, shape) if shape is not None else {}
    return status, out_headers, cbor.dumps(value)
