"""The AWS error an exporter reports in ``/status``, as a condition reason and message. Pure.

The exporter keeps, per API, AWS's error code and how it counted the request (``denied``,
``throttled``, ...); this turns the newest failing API's into one of a few stable reasons, so that
``kubectl get sesmon`` and alerts on Events see "AWSAccessDenied" rather than "NotReady", and the
message keeps AWS's own words (the code and its message name the missing permission or the role).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sesmonitor.contract import ExporterStatus

AWS_ACCESS_DENIED: Final = "AWSAccessDenied"
AWS_CREDENTIALS_EXPIRED: Final = "AWSCredentialsExpired"
AWS_NO_CREDENTIALS: Final = "AWSNoCredentials"
# Keys AWS does not know or a signature it rejects, a web identity token STS refuses.
AWS_INVALID_CREDENTIALS: Final = "AWSInvalidCredentials"
AWS_THROTTLED: Final = "AWSThrottled"
AWS_UNREACHABLE: Final = "AWSUnreachable"
AWS_SERVER_ERROR: Final = "AWSServerError"
AWS_ERROR: Final = "AWSError"
AWS_QUEUE_NOT_FOUND: Final = "AWSQueueNotFound"  # spec.events.queueURL names no queue

_BY_CODE: Final = {
    "ExpiredToken": AWS_CREDENTIALS_EXPIRED,
    "ExpiredTokenException": AWS_CREDENTIALS_EXPIRED,
    "RequestExpired": AWS_CREDENTIALS_EXPIRED,
    "TokenRefreshRequired": AWS_CREDENTIALS_EXPIRED,
    "InvalidClientTokenId": AWS_INVALID_CREDENTIALS,
    "UnrecognizedClientException": AWS_INVALID_CREDENTIALS,
    "SignatureDoesNotMatch": AWS_INVALID_CREDENTIALS,
    "IncompleteSignature": AWS_INVALID_CREDENTIALS,
    "InvalidIdentityToken": AWS_INVALID_CREDENTIALS,
    "NoCredentialsError": AWS_NO_CREDENTIALS,
    "PartialCredentialsError": AWS_NO_CREDENTIALS,
    "CredentialRetrievalError": AWS_NO_CREDENTIALS,
    "EndpointConnectionError": AWS_UNREACHABLE,
    "ConnectionClosedError": AWS_UNREACHABLE,
    "ProxyConnectionError": AWS_UNREACHABLE,
    "SSLError": AWS_UNREACHABLE,
    "QueueDoesNotExist": AWS_QUEUE_NOT_FOUND,
    "AWS.SimpleQueueService.NonExistentQueue": AWS_QUEUE_NOT_FOUND,
}
_BY_KIND: Final = {
    "denied": AWS_ACCESS_DENIED,
    "throttled": AWS_THROTTLED,
    "timeout": AWS_UNREACHABLE,
    "server_error": AWS_SERVER_ERROR,
}


@dataclass(frozen=True)
class AwsFailure:
    reason: str
    message: str  # "GetAccount: AccessDeniedException: User: ... is not authorized ..."


def aws_failure(doc: ExporterStatus) -> AwsFailure | None:
    """The newest error of an API that is still failing, else None.

    The message holds no counts or times, which change on every failed attempt: the status is
    written only when something a reader would notice changes.
    """
    failing = [
        (str(health.get("last_error_time") or ""), api, health)
        for api, health in sorted(doc.apis.items())
        if health.get("consecutive_failures") and health.get("last_error")
    ]
    if not failing:
        if doc.last_error:  # an exporter older than the per-API codes
            return AwsFailure(AWS_ERROR, doc.last_error)
        return None
    _, api, health = max(failing, key=lambda item: item[0])
    code = str(health.get("last_error_code") or "")
    reason = _BY_CODE.get(code) or _BY_KIND.get(str(health.get("last_error_kind") or "")) or AWS_ERROR
    return AwsFailure(reason, f"{api}: {health.get('last_error')}")
