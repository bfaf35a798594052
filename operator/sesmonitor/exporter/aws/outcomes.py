"""Sort an AWS answer (or the lack of one) into one of `sesmonitor.metrics.OUTCOMES`."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "LimitExceededException",
    }
)
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "NotAuthorized",
        "MissingAuthenticationToken",
    }
)


def classify_response(status_code: int, error_code: str | None) -> str:
    if status_code < 300 and not error_code:
        return "success"
    if error_code in THROTTLING_CODES or status_code == 429:
        return "throttled"
    if error_code in DENIED_CODES or status_code in (401, 403):
        return "denied"
    if status_code >= 500:
        return "server_error"
    return "client_error"


def classify_exception(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        return classify_response(int(status), error.get("Code") or "Unknown")
    if isinstance(exc, ReadTimeoutError | ConnectTimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, NoCredentialsError):
        return "denied"
    return "error"


def error_code(exc: BaseException) -> str:
    """AWS's error code, or the exception's class name when AWS did not answer."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "Unknown")
    return type(exc).__name__


def describe_exception(exc: BaseException) -> str:
    """A one-line message naming the AWS error code when there is one."""
    if isinstance(exc, ClientError):
        error: dict[str, Any] = exc.response.get("Error", {})
        return f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"
