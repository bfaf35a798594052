"""SESv2 in the simulation: which route is which operation, and the stand-ins for what moto lacks.

moto 5.2.5 does not implement these, so the fault proxy STANDS IN FOR them:
- GetAccount (GET /v2/email/account): answered from `AccountStandIn` (the scenario's enforcement status,
  sending, quota), switchable at run time (`FaultProxy.set_account`, the control endpoint);
- PutConfigurationSetSendingOptions (PUT /v2/email/configuration-sets/<set>/sending; moto answers 404):
  each set's switch is kept here (`FaultProxy.set_sending`, the control endpoint), for a set moto has;
- the SendingOptions of GetConfigurationSet's answer, which moto gets wrong (`{"SendingEnabled": {}}`):
  the stand-in's switch is written into moto's answer.
Forwarded to moto, which implements them (checked over HTTP against moto 5.2.5, no stand-in):
CreateConfigurationSet, GetConfigurationSet with the set's ReputationOptions, and the tagging calls
spec.protection uses, TagResource and ListTagsForResource (/v2/email/tags) on configuration set ARNs.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from support.simulated_aws.replies import Reply, json_reply

ACCOUNT_ROUTE = "/v2/email/account"
CONFIGURATION_SETS = ["v2", "email", "configuration-sets"]
TAGS = ["v2", "email", "tags"]
TAG_OPERATIONS = {"GET": "ListTagsForResource", "POST": "TagResource", "DELETE": "UntagResource"}


def operation(method: str, path: str) -> str | None:
    """The SESv2 operation a REST-JSON request is, by method and route; None for any other route."""
    route = path.split("?", 1)[0].rstrip("/")
    if route == ACCOUNT_ROUTE and method == "GET":
        return "GetAccount"
    parts = route.split("/")
    if method == "GET" and len(parts) == 5 and parts[1:4] == CONFIGURATION_SETS:
        return "GetConfigurationSet"
    if method == "PUT" and len(parts) == 6 and parts[1:4] == CONFIGURATION_SETS and parts[5] == "sending":
        return "PutConfigurationSetSendingOptions"
    if parts[1:4] == TAGS:
        return TAG_OPERATIONS.get(method, method)
    return None


def configuration_set_path(name: str) -> str:
    return "/" + "/".join([*CONFIGURATION_SETS, name])


@dataclass
class AccountStandIn:
    """What the stand-in GetAccount answers (SESv2 field names)."""

    EnforcementStatus: str = "HEALTHY"
    SendingEnabled: bool = True
    ProductionAccessEnabled: bool = True
    Max24HourSend: float = 50000.0
    MaxSendRate: float = 14.0
    SentLast24Hours: float = 0.0

    def response(self) -> dict[str, Any]:
        return {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": self.EnforcementStatus,
            "ProductionAccessEnabled": self.ProductionAccessEnabled,
            "SendingEnabled": self.SendingEnabled,
            "SendQuota": {
                "Max24HourSend": self.Max24HourSend,
                "MaxSendRate": self.MaxSendRate,
                "SentLast24Hours": self.SentLast24Hours,
            },
            "SuppressionAttributes": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
        }


class SesV2StandIn:
    """The stand-ins' state behind one lock: the account GetAccount answers, each set's sending switch."""

    def __init__(self) -> None:
        self.account = AccountStandIn()
        self.sending: dict[str, bool] = {}
        self._lock = threading.Lock()

    def set_account(self, **fields: Any) -> None:
        with self._lock:
            for name, value in fields.items():
                if not hasattr(self.account, name):
                    raise ValueError(f"unknown account field {name!r}")
                setattr(self.account, name, value)

    def set_sending(self, name: str, enabled: bool) -> None:
        with self._lock:
            self.sending[name] = enabled

    def sending_enabled(self, name: str) -> bool:
        with self._lock:
            return self.sending.get(name, True)

    def get_account(self) -> Reply:
        with self._lock:
            return json_reply(200, self.account.response())

    def put_sending_options(self, path: str, body: bytes, exists: Callable[[str], bool]) -> Reply:
        """Only for a set moto has (`exists` asks it), like SES."""
        name = urllib.parse.unquote(path.split("?", 1)[0].rstrip("/").split("/")[4])
        if not exists(name):
            message = {"message": f"Configuration set {name} does not exist"}
            return json_reply(404, message, [("x-amzn-ErrorType", "NotFoundException")])
        self.set_sending(name, bool(json.loads(body or b"{}").get("SendingEnabled", True)))
        return json_reply(200, {})

    def with_sending_options(self, payload: bytes) -> bytes:
        """moto's GetConfigurationSet answer with this stand-in's switch as its SendingOptions."""
        doc = json.loads(payload)
        doc["SendingOptions"] = {"SendingEnabled": self.sending_enabled(doc["ConfigurationSetName"])}
        return json.dumps(doc).encode()
