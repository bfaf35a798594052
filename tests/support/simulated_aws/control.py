"""The fault proxy's control endpoints (JSON), for a demo or benchmark running in another process.

GET /__sesmonitor/requests, POST /__sesmonitor/reset, GET|PUT /__sesmonitor/account,
GET|PUT /__sesmonitor/sending (body: {"marketing": false}),
POST|DELETE /__sesmonitor/faults (body: {"operation": "GetMetricData", "kind": "throttle", "times": 2}),
GET|POST /__sesmonitor/tenants (body: `TenantsStandIn.add_tenant`'s arguments, with "name"),
PUT /__sesmonitor/tenants/status (body: {"name": "acme", "status": "DISABLED", "cause": "...",
"impact": "HIGH"}),
GET|POST|DELETE /__sesmonitor/recommendations (body: `RecommendationsStandIn.add`'s arguments).
Control requests are not recorded as AWS requests.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from support.simulated_aws.replies import Reply, json_reply

if TYPE_CHECKING:
    from support.simulated_aws.fault_proxy import FaultProxy

CONTROL_PREFIX = "/__sesmonitor/"


def control(proxy: FaultProxy, method: str, what: str, body: bytes) -> Reply:
    """The answer to `method` on the endpoint `what` (the path after CONTROL_PREFIX)."""
    doc = json.loads(body) if body else {}
    stand_in = proxy.sesv2
    result: Any
    if what == "requests" and method == "GET":
        reqs = proxy.requests()
        counts: dict[str, int] = {}
        for r in reqs:
            counts[r.operation] = counts.get(r.operation, 0) + 1
        result = {"counts": counts, "requests": [asdict(r) for r in reqs]}
    elif what == "reset" and method == "POST":
        proxy.reset()
        result = {"ok": True}
    elif what == "account" and method in ("PUT", "POST"):
        try:
            stand_in.set_account(**doc)
        except (TypeError, ValueError) as exc:
            return json_reply(400, {"error": str(exc)})
        result = asdict(stand_in.account)
    elif what == "account" and method == "GET":
        result = asdict(stand_in.account)
    elif what == "sending" and method in ("PUT", "POST"):
        for name, enabled in doc.items():
            stand_in.set_sending(name, bool(enabled))
        result = dict(stand_in.sending)
    elif what == "sending" and method == "GET":
        result = dict(stand_in.sending)
    elif what == "faults" and method == "POST":
        try:
            proxy.inject(doc["operation"], doc["kind"], doc.get("times"), float(doc.get("delay_seconds", 0)))
        except (KeyError, ValueError) as exc:
            return json_reply(400, {"error": str(exc)})
        result = {"ok": True}
    elif what.startswith(("tenants", "recommendations")):
        return stand_in_control(proxy, method, what, doc)
    elif what == "faults" and method == "DELETE":
        proxy.clear_faults()
        result = {"ok": True}
    else:
        return json_reply(404, {"error": "unknown control endpoint"})
    return json_reply(200, result)


def stand_in_control(proxy: FaultProxy, method: str, what: str, doc: dict[str, Any]) -> Reply:
    """Seed or change the tenants and findings the stand-ins answer with (`tenants`, `recommendations`)."""
    try:
        if what == "tenants" and method == "POST":
            resources = [tuple(r) for r in doc.pop("resources", [])]
            tenant = proxy.tenants.add_tenant(doc.pop("name"), resources=resources, **doc)  # type: ignore[arg-type]
            return json_reply(200, tenant.info())
        if what == "tenants/status" and method == "PUT":
            proxy.tenants.set_aws_status(doc["name"], doc["status"], doc.get("cause"), doc.get("impact"))
            return json_reply(200, proxy.tenants.tenant(doc["name"]).info())
        if what == "tenants" and method == "GET":
            return json_reply(200, [proxy.tenants.tenant(n).info() for n in proxy.tenants.names()])
        if what == "recommendations" and method == "POST":
            return json_reply(200, proxy.recommendations.add(**doc).response())
        if what == "recommendations" and method == "GET":
            return json_reply(200, [f.response() for f in proxy.recommendations.findings()])
        if what == "recommendations" and method == "DELETE":
            proxy.recommendations.clear()
            return json_reply(200, {"ok": True})
    except (KeyError, TypeError, ValueError) as exc:
        return json_reply(400, {"error": str(exc)})
    return json_reply(404, {"error": "unknown control endpoint"})
