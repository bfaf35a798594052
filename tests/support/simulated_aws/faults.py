"""The faults the proxy injects per operation, each answered in the caller's protocol.

Kinds: throttling (HTTP 400 `Throttling`, 429 for SESv2), server errors (500), AccessDenied (403), an
expired token (400 `ExpiredToken`), SES's tag limit (SESv2 400 `BadRequestException`), and a delay that
runs into client timeouts. The protocols: SESv2's
REST-JSON, awsJson1_0 with the query-compatible error header, Smithy RPC v2 CBOR, and AWS query XML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from support.simulated_aws import cbor
from support.simulated_aws.cloudwatch import CLOUDWATCH_TARGET_PREFIX
from support.simulated_aws.replies import Reply, json_reply

# (HTTP status, code for CloudWatch's query/JSON/CBOR protocols, code for SESv2 REST-JSON, message)
FAULTS = {
    "throttle": (400, "Throttling", "TooManyRequestsException", "Rate exceeded"),
    "server_error": (500, "InternalServiceError", "InternalFailure", "Internal service error (injected)"),
    "access_denied": (
        403,
        "AccessDenied",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/test is not authorized to perform this action (injected)",
    ),
    # SES's 50-tag limit on TagResource, which moto 5.2.5 does not enforce (it keeps any number): SESv2's
    # model names no error of its own for it, AWS answers BadRequestException (the CloudWatch codes are
    # never used: no CloudWatch call writes tags).
    "too_many_tags": (
        400,
        "InvalidParameterValue",
        "BadRequestException",
        "Tags: a resource can have as many as 50 tags (injected)",
    ),
    "expired_token": (
        400,
        "ExpiredToken",
        "ExpiredTokenException",
        "The security token included in the request is expired (injected)",
    ),
}
SESV2_STATUS = {"throttle": 429}
DELAY = "delay"  # not an error: the proxy waits, then answers as usual


@dataclass
class Fault:
    operation: str  # "*" for every operation
    kind: str  # a key of FAULTS, or DELAY
    times: int | None = None  # None: until cleared
    delay_seconds: float = 0.0


def fault_reply(protocol: str, kind: str) -> Reply:
    status, code, rest_code, message = FAULTS[kind]
    if protocol == "rest-json":
        return json_reply(
            SESV2_STATUS.get(kind, status), {"message": message}, [("x-amzn-ErrorType", rest_code)]
        )
    fault_side = "Receiver" if status >= 500 else "Sender"
    query_error = ("x-amzn-query-error", f"{code};{fault_side}")
    if protocol == "json":
        body = json.dumps({"__type": f"{CLOUDWATCH_TARGET_PREFIX}#{code}", "message": message}).encode()
        return status, [("Content-Type", "application/x-amz-json-1.0"), query_error], body
    if protocol == "cbor":
        body = cbor.dumps({"__type": f"com.amazonaws.cloudwatch#{code}", "message": message})
        return (
            status,
            [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor"), query_error],
            body,
        )
    xml = (
        f'<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>{fault_side}</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error><RequestId>sesmonitor-proxy</RequestId>"
        "</ErrorResponse>"
    )
    return status, [("Content-Type", "text/xml")], xml.encode()
