"""SES tenants and reputation entities in the simulation: moto 5.2.5 implements none of these calls.

The fault proxy STANDS IN FOR (routes in `simulated_aws.sesv2.operation`):
- ListTenants (POST /v2/email/tenants/list; filters TENANT_NAME_CONTAINS, SENDING_STATUS),
- GetTenant (POST /v2/email/tenants/get), ListTenantResources (POST /v2/email/tenants/resources/list),
- GetReputationEntity (GET /v2/email/reputation/entities/RESOURCE/<ARN>), ListReputationEntities
  (POST /v2/email/reputation/entities),
- UpdateReputationEntityCustomerManagedStatus (PUT .../entities/RESOURCE/<ARN>/customer-managed-status),
- TagResource, UntagResource, ListTagsForResource (/v2/email/tags) on a tenant's ARN (moto keeps tags of
  its own resources only; `is_tenant_arn` routes the tenants' here, spec.protection's record lives there).

Each answer is built from botocore's sesv2 output shapes (`tests/aws/test_stand_in_shapes.py` checks every
one of them, and the errors, against the model botocore ships). Tests seed the account with
`TenantsStandIn.add_tenant` and change what AWS decided with `set_aws_status` (through the proxy, or the
control endpoint `tenants` from another process). Pagination: NextToken is the next item's index.

Every answered call is logged as a `TenantRequest` (`requests()`): when, by the stand-in's `clock`
(tests may give it a simulated one), and which tenants it answered about, so a test can count the
requests each tenant cost over simulated hours.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from support.simulated_aws.replies import Reply, json_reply

ACCOUNT_ID = "123456789012"  # moto's default account
SENDING_STATUSES = ("ENABLED", "REINSTATED", "DISABLED")
POLICIES = ("none", "standard", "strict")
IMPACTS = ("LOW", "HIGH")
RESOURCE_TYPES = ("EMAIL_IDENTITY", "CONFIGURATION_SET", "EMAIL_TEMPLATE")
DEFAULT_PAGE = 100  # what the stand-in pages by when a request gives no PageSize
MAX_TAGS = 50  # SES's limit of tags on a resource; over it TagResource answers BadRequestException
TAG_OPERATIONS = frozenset({"TagResource", "UntagResource", "ListTagsForResource"})


def is_tenant_arn(arn: str) -> bool:
    """arn:aws:ses:<region>:<account>:tenant/<name>/<id>."""
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[2] == "ses" and parts[5].startswith("tenant/")


def tagged_arn(method: str, path: str, raw: bytes) -> str:
    """The ResourceArn of a tagging call: the query string's (GET, DELETE) or the body's (POST)."""
    if method == "POST":
        return str(body(raw).get("ResourceArn", ""))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    return (query.get("ResourceArn") or [""])[0]


def error(status: int, code: str, message: str) -> Reply:
    """An SESv2 REST-JSON error as AWS sends it: the code in x-amzn-ErrorType, the message in the body."""
    return json_reply(status, {"message": message}, [("x-amzn-ErrorType", code)])


def not_found(message: str) -> Reply:
    return error(404, "NotFoundException", message)


def bad_request(message: str) -> Reply:
    return error(400, "BadRequestException", message)


def policy_arn(region: str, policy: str) -> str:
    """An SES-managed reputation policy (CloudFormation's pattern: ...:aws:reputation-policy/<name>)."""
    return f"arn:aws:ses:{region}:aws:reputation-policy/{policy}"


@dataclass
class StatusRecord:
    status: str = "ENABLED"
    cause: str | None = None
    updated: float = 0.0

    def response(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"Status": self.status, "LastUpdatedTimestamp": self.updated}
        if self.cause is not None:
            doc["Cause"] = self.cause
        return doc


@dataclass
class TenantStandIn:
    name: str
    tenant_id: str
    arn: str
    created: float
    policy: str = "standard"
    impact: str = "LOW"
    aws: StatusRecord = field(default_factory=StatusRecord)
    customer: StatusRecord = field(default_factory=StatusRecord)
    resources: list[tuple[str, str]] = field(default_factory=list)  # (ResourceType, ResourceArn)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def aggregate(self) -> str:
        """DISABLED when either side is; REINSTATED when the customer reinstated it (and AWS allows)."""
        if "DISABLED" in (self.aws.status, self.customer.status):
            return "DISABLED"
        if "REINSTATED" in (self.aws.status, self.customer.status):
            return "REINSTATED"
        return "ENABLED"

    def info(self) -> dict[str, Any]:
        return {
            "TenantName": self.name,
            "TenantId": self.tenant_id,
            "TenantArn": self.arn,
            "CreatedTimestamp": self.created,
            "SendingStatus": self.aggregate,
        }

    def tenant(self) -> dict[str, Any]:
        return {
            **self.info(),
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(self.tags.items())],
            "SuppressionAttributes": {
                "SuppressedReasons": ["BOUNCE", "COMPLAINT"],
                "SuppressionScope": "ACCOUNT",
            },
        }

    def entity(self, region: str) -> dict[str, Any]:
        return {
            "ReputationEntityReference": self.arn,
            "ReputationEntityType": "RESOURCE",
            "ReputationManagementPolicy": policy_arn(region, self.policy),
            "CustomerManagedStatus": self.customer.response(),
            "AwsSesManagedStatus": self.aws.response(),
            "SendingStatusAggregate": self.aggregate,
            "ReputationImpact": self.impact,
        }


@dataclass(frozen=True)
class TenantRequest:
    """One answered tenant call: when (the stand-in's clock), which, and the tenants it was about (a
    page: the tenants on it; GetTenant, GetReputationEntity: the one named; none for an error)."""

    at: float
    operation: str
    tenants: tuple[str, ...]


def tenant_name(arn: str) -> str:
    """<name> of arn:aws:ses:<region>:<account>:tenant/<name>/<id>."""
    return arn.split(":tenant/", 1)[-1].split("/", 1)[0]


def page(items: list[Any], doc: dict[str, Any], key: str) -> Reply:
    """One page of `items` under `key`, from the request's NextToken and PageSize (1..100, as AWS bounds
    ListRecommendations' and the stand-in applies to every list)."""
    size = doc.get("PageSize", DEFAULT_PAGE)
    if not isinstance(size, int) or not 1 <= size <= 100:
        return bad_request(f"PageSize must be between 1 and 100, not {size!r}")
    token = doc.get("NextToken")
    try:
        start = int(token) if token is not None else 0
    except ValueError:
        return bad_request(f"Invalid NextToken {token!r}")
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return json_reply(200, out)


def body(raw: bytes) -> dict[str, Any]:
    doc = json.loads(raw or b"{}")
    return doc if isinstance(doc, dict) else {}


class TenantsStandIn:
    """The account's tenants and their reputation entities, behind one lock."""

    def __init__(self, region: str = "us-east-1", clock: Callable[[], float] = time.time) -> None:
        self.region = region
        self.clock = clock
        self._tenants: dict[str, TenantStandIn] = {}
        self._requests: list[TenantRequest] = []
        self._lock = threading.Lock()

    # -- seeding (tests, the control endpoint)
    def add_tenant(
        self,
        name: str,
        *,
        policy: str = "standard",
        impact: str = "LOW",
        aws_status: str = "ENABLED",
        aws_cause: str | None = None,
        customer_status: str = "ENABLED",
        customer_cause: str | None = None,
        resources: list[tuple[str, str]] | None = None,
        tags: dict[str, str] | None = None,
    ) -> TenantStandIn:
        if policy not in POLICIES or impact not in IMPACTS:
            raise ValueError(f"policy must be one of {POLICIES}, impact one of {IMPACTS}")
        for status in (aws_status, customer_status):
            if status not in SENDING_STATUSES:
                raise ValueError(f"unknown sending status {status!r}")
        now = self.clock()
        with self._lock:
            tenant_id = f"tn-{len(self._tenants) + 1:08x}"
            tenant = TenantStandIn(
                name,
                tenant_id,
                f"arn:aws:ses:{self.region}:{ACCOUNT_ID}:tenant/{name}/{tenant_id}",
                now,
                policy,
                impact,
                StatusRecord(aws_status, aws_cause, now),
                StatusRecord(customer_status, customer_cause, now),
                list(resources or []),
                dict(tags or {}),
            )
            self._tenants[name] = tenant
            return tenant

    def set_aws_status(
        self, name: str, status: str, cause: str | None = None, impact: str | None = None
    ) -> None:
        """What AWS decides under the tenant's reputation policy (a pause is status DISABLED)."""
        if status not in SENDING_STATUSES or (impact is not None and impact not in IMPACTS):
            raise ValueError(f"unknown status {status!r} or impact {impact!r}")
        with self._lock:
            tenant = self._tenants[name]
            tenant.aws = StatusRecord(status, cause, self.clock())
            if impact is not None:
                tenant.impact = impact

    def tenant(self, name: str) -> TenantStandIn:
        with self._lock:
            return self._tenants[name]

    def names(self) -> list[str]:
        with self._lock:
            return list(self._tenants)

    def clear(self) -> None:
        with self._lock:
            self._tenants.clear()
            self._requests.clear()

    def requests(self) -> list[TenantRequest]:
        with self._lock:
            return list(self._requests)

    def _logged(self, operation: str, reply: Reply) -> Reply:
        """The reply, its call logged with the tenants its answer is about."""
        status, _, payload = reply
        about: tuple[str, ...] = ()
        if status == 200 and payload:
            doc = json.loads(payload)
            single = [doc[key] for key in ("Tenant", "ReputationEntity") if key in doc]
            items = single or doc.get("Tenants") or doc.get("ReputationEntities") or []
            about = tuple(
                item.get("TenantName") or tenant_name(item.get("ReputationEntityReference", ""))
                for item in items
            )
        self._requests.append(TenantRequest(self.clock(), operation, about))
        return reply

    # -- the SESv2 calls
    def answer(self, operation: str, method: str, path: str, raw: bytes) -> Reply:
        doc = body(raw) if method != "GET" else {}
        with self._lock:
            if operation == "ListTenants":
                return self._logged(operation, self._list_tenants(doc))
            if operation == "GetTenant":
                return self._logged(operation, self._get_tenant(doc))
            if operation == "ListTenantResources":
                return self._logged(operation, self._list_resources(doc))
            if operation == "ListReputationEntities":
                return self._logged(operation, self._list_entities(doc))
            if operation == "GetReputationEntity":
                return self._logged(operation, self._get_entity(path))
            if operation == "UpdateReputationEntityCustomerManagedStatus":
                return self._logged(operation, self._update_customer_status(path, doc))
            if operation in TAG_OPERATIONS:
                return self._tags(operation, method, path, raw)
        raise ValueError(f"not a tenant operation: {operation}")

    def _by_name(self, doc: dict[str, Any]) -> TenantStandIn | Reply:
        name = doc.get("TenantName")
        if not isinstance(name, str) or not name:
            return bad_request("TenantName is required")
        tenant = self._tenants.get(name)
        return tenant if tenant is not None else not_found(f"Tenant {name} does not exist")

    def _list_tenants(self, doc: dict[str, Any]) -> Reply:
        filters = doc.get("Filter") or {}
        unknown = set(filters) - {"TENANT_NAME_CONTAINS", "SENDING_STATUS"}
        if unknown:
            return bad_request(f"Unknown filter {sorted(unknown)}")
        tenants = [
            t.info()
            for t in self._tenants.values()
            if filters.get("TENANT_NAME_CONTAINS", "") in t.name
            and filters.get("SENDING_STATUS", t.aggregate) == t.aggregate
        ]
        return page(tenants, doc, "Tenants")

    def _get_tenant(self, doc: dict[str, Any]) -> Reply:
        tenant = self._by_name(doc)
        return tenant if isinstance(tenant, tuple) else json_reply(200, {"Tenant": tenant.tenant()})

    def _list_resources(self, doc: dict[str, Any]) -> Reply:
        tenant = self._by_name(doc)
        if isinstance(tenant, tuple):
            return tenant
        wanted = (doc.get("Filter") or {}).get("RESOURCE_TYPE")
        resources = [
            {"ResourceType": kind, "ResourceArn": arn}
            for kind, arn in tenant.resources
            if wanted is None or kind == wanted
        ]
        return page(resources, doc, "TenantResources")

    def _list_entities(self, doc: dict[str, Any]) -> Reply:
        filters = doc.get("Filter") or {}
        entities = [
            t.entity(self.region)
            for t in self._tenants.values()
            if filters.get("REPUTATION_IMPACT", t.impact) == t.impact
            and filters.get("SENDING_STATUS", t.aggregate) == t.aggregate
            and t.arn.startswith(filters.get("ENTITY_REFERENCE_PREFIX", ""))
            and filters.get("ENTITY_TYPE", "RESOURCE") == "RESOURCE"
        ]
        return page(entities, doc, "ReputationEntities")

    def _entity_of(self, path: str, missing: Callable[[str], Reply] = not_found) -> TenantStandIn | Reply:
        parts = path.split("?", 1)[0].rstrip("/").split("/")  # /v2/email/reputation/entities/<type>/<ref>
        kind, reference = parts[5], urllib.parse.unquote(parts[6])
        if kind != "RESOURCE":
            return bad_request(f"Unsupported ReputationEntityType {kind}")
        for tenant in self._tenants.values():
            if tenant.arn == reference:
                return tenant
        return missing(f"Reputation entity {reference} does not exist")

    def _get_entity(self, path: str) -> Reply:
        tenant = self._entity_of(path)
        if isinstance(tenant, tuple):
            return tenant
        return json_reply(200, {"ReputationEntity": tenant.entity(self.region)})

    def _update_customer_status(self, path: str, doc: dict[str, Any]) -> Reply:
        # botocore models no NotFoundException for this call: an unknown entity is a bad request.
        tenant = self._entity_of(path, missing=bad_request)
        if isinstance(tenant, tuple):
            return tenant
        status = doc.get("SendingStatus")
        if status not in SENDING_STATUSES:
            return bad_request(f"Invalid SendingStatus {status!r}")
        tenant.customer = StatusRecord(status, None, self.clock())
        return json_reply(200, {})

    def _tags(self, operation: str, method: str, path: str, raw: bytes) -> Reply:
        arn = tagged_arn(method, path, raw)
        tenant = next((t for t in self._tenants.values() if t.arn == arn), None)
        if tenant is None:
            return not_found(f"Resource {arn} does not exist")
        if operation == "ListTagsForResource":
            return json_reply(200, {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tenant.tags.items())]})
        if operation == "UntagResource":
            keys = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("TagKeys", [])
            for key in keys:
                tenant.tags.pop(key, None)
            return json_reply(200, {})
        tags = body(raw).get("Tags")
        if not isinstance(tags, list) or not all(isinstance(t, dict) and t.get("Key") for t in tags):
            return bad_request("Tags must be a list of Key/Value pairs")
        merged = {**tenant.tags, **{str(t["Key"]): str(t.get("Value", "")) for t in tags}}
        if len(merged) > MAX_TAGS:
            return bad_request(f"Too many tags: a resource can have at most {MAX_TAGS} tags")
        tenant.tags = merged
        return json_reply(200, {})
