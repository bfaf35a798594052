"""One read of spec.tenants' tenants: the SESv2 calls, paced, and their answers joined.

Listed names: GetTenant and GetReputationEntity per name, 2 requests a tenant (at the shortest read
interval, 20 minutes, 1 per 10 minutes), whatever the size of the account: a listing would page through
all of its tenants, and `sesmonitor iam-policy` grants listed names no listing. A prefix or all tenants:
ListTenants, then the watched tenants' reputation entities through ListReputationEntities on their ARN
prefix (a page holds up to 100), stopped once it has every watched one, with GetReputationEntity only
for a tenant the listing left out, and for a few tenants (FEW_TENANTS) whose entities are cheaper to
get one by one. Requests are spaced `pace_seconds` apart: SESv2's management calls are limited per
second per account, and the sending application shares those limits.

`read_again`: the few tenants a service event named, one GetReputationEntity each on the ARN the last
read found (no GetTenant: the IAM policy of a prefix or all tenants has none), the tenant's own sending
status taken from the entity's aggregate, which that status is part of.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from sesmonitor.contract import TenantsConfig
from sesmonitor.exporter.aws.outcomes import error_code
from sesmonitor.exporter.model.tenants import Tenant, TenantsReading
from sesmonitor.exporter.tenants.parse import listed_tenant, tenant_arn_prefix, with_entity
from sesmonitor.exporter.tenants.selection import missing_names, select

PAGE_SIZE = 100
FEW_TENANTS = 10  # up to this many, GetReputationEntity per tenant costs less than the listing
NOT_FOUND = "NotFoundException"


class TenantsReader:
    def __init__(
        self,
        client: Any,
        config: TenantsConfig,
        *,
        pace_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._config = config
        self._pace = pace_seconds
        self._sleep = sleep
        self._requests = 0

    def _call(self, method: str, **kwargs: Any) -> Any:
        if self._requests and self._pace > 0:
            self._sleep(self._pace)
        self._requests += 1
        return getattr(self._client, method)(**kwargs)

    def _found(self, method: str, **kwargs: Any) -> Any | None:
        """The answer, or None when AWS answers NotFoundException."""
        try:
            return self._call(method, **kwargs)
        except ClientError as exc:
            if error_code(exc) == NOT_FOUND:
                return None
            raise

    def _pages(self, method: str, key: str, **kwargs: Any) -> Iterator[Any]:
        """The items of each page in turn; the next page is asked for only when the caller wants more."""
        token: str | None = None
        while True:
            page = self._call(method, **kwargs, PageSize=PAGE_SIZE, **({"NextToken": token} if token else {}))
            yield from page.get(key) or []
            token = page.get("NextToken")
            if not token:
                return

    def read(self) -> TenantsReading:
        """Raises what AWS raises (the loop keeps the last reading); a name AWS does not know is missing."""
        self._requests = 0
        config = self._config
        if config.names:
            found = []
            for name in config.names:
                answer = self._found("get_tenant", TenantName=name)
                tenant = listed_tenant(answer.get("Tenant") or {}) if answer else None
                if tenant is not None:
                    found.append(tenant)
            watched, matching = select(found, config)
            missing = missing_names((t.name for t in found), config)
        else:
            filters = {"TENANT_NAME_CONTAINS": config.prefix} if config.prefix else {}
            listed = (listed_tenant(doc) for doc in self._pages("list_tenants", "Tenants", Filter=filters))
            watched, matching = select((t for t in listed if t is not None), config)
            missing = ()
        return TenantsReading(self._with_entities(watched), matching, missing, self._requests)

    def read_again(self, tenants: tuple[Tenant, ...]) -> tuple[Tenant, ...]:
        """The tenants as their entities say now; one AWS no longer knows (or without an ARN) is left
        out. Raises what AWS raises."""
        self._requests = 0
        out = []
        for tenant in tenants:
            if not tenant.arn:
                continue
            answer = self._found(
                "get_reputation_entity", ReputationEntityType="RESOURCE", ReputationEntityReference=tenant.arn
            )
            entity = (answer or {}).get("ReputationEntity")
            if entity:
                aggregate = entity.get("SendingStatusAggregate")
                own = aggregate if isinstance(aggregate, str) and aggregate else tenant.sending_status
                out.append(with_entity(Tenant(tenant.name, tenant.arn, own), entity))
        return tuple(out)

    @property
    def requests(self) -> int:
        """The requests of the last read or read_again."""
        return self._requests

    def _with_entities(self, watched: tuple[Tenant, ...]) -> tuple[Tenant, ...]:
        entities: dict[str, Any] = {}
        prefix = tenant_arn_prefix(watched, self._config.prefix)
        if not self._config.names and len(watched) > FEW_TENANTS and prefix is not None:
            missing = {t.arn for t in watched if t.arn}
            for entity in self._pages(
                "list_reputation_entities", "ReputationEntities", Filter={"ENTITY_REFERENCE_PREFIX": prefix}
            ):
                reference = entity.get("ReputationEntityReference")
                if reference in missing:
                    entities[reference] = entity
                    missing.discard(reference)
                    if not missing:
                        break
        out = []
        for tenant in watched:
            entity = entities.get(tenant.arn or "")
            if entity is None and tenant.arn:
                answer = self._found(
                    "get_reputation_entity",
                    ReputationEntityType="RESOURCE",
                    ReputationEntityReference=tenant.arn,
                )
                entity = (answer or {}).get("ReputationEntity")
            out.append(with_entity(tenant, entity) if entity else tenant)
        return tuple(out)
