"""Count every HTTP request a boto3 client sends, by API and outcome, through botocore's events.

`response-received` fires once per attempt, so botocore's retries are counted one by one: they count
against AWS's rate limits too. A call that never reached the network (no credentials, or answered by a
botocore Stubber in tests) is counted once, from `after-call` / `after-call-error`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sesmonitor.exporter.aws.outcomes import classify_exception, classify_response

_ATTEMPTS = "sesmonitor_attempts"
Record = Callable[[str, str], None]  # (api, outcome)


def _error_code(parsed: Any) -> str | None:
    if isinstance(parsed, dict):
        error = parsed.get("Error")
        if isinstance(error, dict) and error.get("Code"):
            return str(error["Code"])
    return None


def instrument(client: Any, operation: str, record: Record) -> None:
    """Count `operation` calls made with `client` (an operation name is also our `api` label)."""
    service_id = client.meta.service_model.service_id.hyphenize()
    events = client.meta.events

    def on_response(
        context: dict[str, Any] | None = None,
        exception: BaseException | None = None,
        response_dict: dict[str, Any] | None = None,
        parsed_response: Any = None,
        **_: Any,
    ) -> None:
        if context is not None:
            context[_ATTEMPTS] = context.get(_ATTEMPTS, 0) + 1
        if exception is not None:
            record(operation, classify_exception(exception))
        elif response_dict is not None:
            record(
                operation, classify_response(int(response_dict["status_code"]), _error_code(parsed_response))
            )

    def on_after_call(
        http_response: Any = None, parsed: Any = None, context: dict[str, Any] | None = None, **_: Any
    ) -> None:
        if context is not None and context.get(_ATTEMPTS):
            return
        status = int(getattr(http_response, "status_code", 200))
        record(operation, classify_response(status, _error_code(parsed)))

    def on_after_call_error(
        exception: BaseException | None = None, context: dict[str, Any] | None = None, **_: Any
    ) -> None:
        if context is not None and context.get(_ATTEMPTS):
            return
        if exception is not None:
            record(operation, classify_exception(exception))

    uid = f"sesmonitor-count-{operation}"
    events.register(f"response-received.{service_id}.{operation}", on_response, unique_id=uid + "-response")
    events.register(f"after-call.{service_id}.{operation}", on_after_call, unique_id=uid + "-after")
    events.register(
        f"after-call-error.{service_id}.{operation}", on_after_call_error, unique_id=uid + "-error"
    )
