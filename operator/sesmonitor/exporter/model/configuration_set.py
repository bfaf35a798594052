"""One listed configuration set's GetConfigurationSet, read and judged on its own.

Each set is its own call with its own outcome: a set that does not exist (NotFoundException: deleted,
or misspelled in the spec) or fails for another reason never takes the other sets' reads, or their
protection, with it. `refresh.reputation` makes them, the state keeps them, `serving` and
`protection` read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# SESv2's answer for a configuration set that does not exist (GetConfigurationSet, 404).
NOT_FOUND_CODE: Final = "NotFoundException"


@dataclass(frozen=True)
class SetRead:
    reputation_enabled: bool | None = None  # ReputationOptions.ReputationMetricsEnabled
    sending_enabled: bool | None = None  # SendingOptions.SendingEnabled
    missing: bool = False  # NotFoundException
    error: str | None = None  # any other failure, one line naming AWS's code
    error_code: str | None = None
    error_kind: str | None = None  # as sesmonitor_aws_requests_total counts it (metrics.OUTCOMES)

    @property
    def ok(self) -> bool:
        return not self.missing and self.error is None


MISSING: Final = SetRead(missing=True)
