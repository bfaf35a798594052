"""SESv2 in the simulation: which route is which operation, and the stand-ins for what moto lacks.

moto 5.2.5 does not implement these, so the fault proxy STANDS IN FOR them:
- GetAccount (GET /v2/email/account): answered from `AccountStandIn` (the scenario's enforcement status,
  sending, quota), switchable at run time (`FaultProxy.set_account`, the control endpoint);
- PutConfigurationSetSendingOptions (PUT /v2/email/configuration-sets/<set>/sending; moto answers 404):
  each set's switch is kept here (`FaultProxy.set_sending`, the control endpoint), for a set moto has;
- the SendingOptions of GetConfigurationSet's answer, which moto gets wrong (`{"SendingEnabled": {}}`):
  the stand-in's switch is written into moto's answer; `stale_after_change` makes the next reads after
  a set's switch changes answer its old value, as an eventually consistent read may.
- the tenant, reputation-entity and recommendation calls (`simulated_aws.tenants`,
  `simulated_aws.recommendations`; routed here by `TENANT_ROUTES`), and the tagging calls on a tenant's
  ARN (moto has no tenants; `simulated_aws.tenants.is_tenant_arn`);
- GetAccount's SuppressionAttributes, Details.ReviewDetails (the appeal case) and VdmAttributes.
Forwarded to moto, which implements them (checked over HTTP against moto 5.2.5, no stand-in):
CreateConfigurationSet, GetConfigurationSet with the set's ReputationOptions, and the tagging calls
spec.protection uses, TagResource and ListTagsForResource (/v2/email/tags) on configuration set ARNs.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from support.simulated_aws.replies import Reply, json_reply

ACCOUNT_ROUTE = "/v2/email/account"
CONFIGURATION_SETS = ["v2", "email", "configuration-sets"]
TAGS = ["v2", "email", "tags"]
TAG_OPERATIONS = {"GET": "ListTagsForResource", "POST": "TagResource", "DELETE": "UntagResource"}
# (method, route) -> operation, for the calls moto 5.2.5 lacks that have fixed routes
TENANT_ROUTES = {
    ("POST", "/v2/email/tenants/list"): "ListTenants",
    ("POST", "/v2/email/tenants/get"): "GetTenant",
    ("POST", "/v2/email/tenants/resources/list"): "ListTenantResources",
    ("POST", "/v2/email/reputation/entities"): "ListReputationEntities",
    ("POST", "/v2/email/vdm/recommendations"): "ListRecommendations",
}
REPUTATION_ENTITIES = ["v2", "email", "reputation", "entities"]
TENANT_OPERATIONS = frozenset(
    {*TENANT_ROUTES.values(), "GetReputationEntity", "UpdateReputationEntityCustomerManagedStatus"}
) - {"ListRecommendations"}


def operation(method: str, path: str) -> str | None:
    """The SESv2 operation a REST-JSON request is, by method and route; None for any other route."""
    route = path.split("?", 1)[0].rstrip("/")
    if route == ACCOUNT_ROUTE and method == "GET":
        return "GetAccount"
    if (method, route) in TENANT_ROUTES:
        return TENANT_ROUTES[method, route]
    parts = route.split("/")
    if parts[1:5] == REPUTATION_ENTITIES and len(parts) == 7 and method == "GET":
        return "GetReputationEntity"
    if (
        parts[1:5] == REPUTATION_ENTITIES
        and len(parts) == 8
        and method == "PUT"
        and parts[7] == "customer-managed-status"
    ):
        return "UpdateReputationEntityCustomerManagedStatus"
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
    # [] is the account-level suppression list off (PutAccountSuppressionAttributes with no reasons)
    SuppressedReasons: list[str] = field(default_factory=lambda: ["BOUNCE", "COMPLAINT"])
    ReviewStatus: str | None = None  # Details.ReviewDetails: PENDING | FAILED | GRANTED | DENIED
    ReviewCaseId: str | None = None
    VdmEnabled: str | None = None  # None: VdmAttributes left out, as AWS does where VDM was never set up

    def response(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": self.EnforcementStatus,
            "ProductionAccessEnabled": self.ProductionAccessEnabled,
            "SendingEnabled": self.SendingEnabled,
            "SendQuota": {
                "Max24HourSend": self.Max24HourSend,
                "MaxSendRate": self.MaxSendRate,
                "SentLast24Hours": self.SentLast24Hours,
            },
            "SuppressionAttributes": {"SuppressedReasons": list(self.SuppressedReasons)},
        }
        if self.ReviewStatus is not None or self.ReviewCaseId is not None:
            review = {"Status": self.ReviewStatus, "CaseId": self.ReviewCaseId}
            doc["Details"] = {"ReviewDetails": {k: v for k, v in review.items() if v is not None}}
        if self.VdmEnabled is not None:
            doc["VdmAttributes"] = {"VdmEnabled": self.VdmEnabled}
        return doc


class SesV2StandIn:
    """The stand-ins' state behind one lock: the account GetAccount answers, each set's sending switch."""

    def __init__(self) -> None:
        self.account = AccountStandIn()
        self.sending: dict[str, bool] = {}
        self._before: dict[str, bool] = {}  # each set's switch before its last change
        self._stale: dict[str, int] = {}  # reads still to answer with it, once the switch changes
        self._armed: dict[str, int] = {}  # stale reads asked for the next change
        self._lock = threading.Lock()

    def stale_after_change(self, name: str, reads: int) -> None:
        """After the set's switch next changes, its next `reads` GetConfigurationSet answers say the old
        value (SES's reads are eventually consistent)."""
        with self._lock:
            self._armed[name] = reads

    def set_account(self, **fields: Any) -> None:
        with self._lock:
            for name, value in fields.items():
                if not hasattr(self.account, name):
                    raise ValueError(f"unknown account field {name!r}")
                setattr(self.account, name, value)

    def set_sending(self, name: str, enabled: bool) -> None:
        with self._lock:
            before = self.sending.get(name, True)
            if before != enabled and name in self._armed:
                self._before[name], self._stale[name] = before, self._armed.pop(name)
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
        name = doc["ConfigurationSetName"]
        with self._lock:
            enabled = self.sending.get(name, True)
            if self._stale.get(name, 0) > 0:
                self._stale[name] -= 1
                enabled = self._before[name]
        doc["SendingOptions"] = {"SendingEnabled": enabled}
        return json.dumps(doc).encode()
