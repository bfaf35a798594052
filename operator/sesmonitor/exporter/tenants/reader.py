"""One read of spec.tenants' tenants: the SESv2 calls, paced, and their answers joined.

Listed names: GetTenant per name; a prefix or all tenants: ListTenants (100 a page). Then the watched
tenants' reputation entities: one GetReputationEntity each for a few tenants (FEW_TENANTS), else
ListReputationEntities on their ARN prefix (100 a page), stopped once it has every watched entity, with
GetReputationEntity for those it left out. For listed names that listing covers the account's tenants,
of a size unknown in advance, so it also stops once its pages are as many as the entities still missing
and gets those one by one: a few names on an account of thousands of tenants no longer page through
all of them, and never cost more than twice what one GetReputationEntity each would. Requests are
spaced `pace_seconds` apart: SESv2's management calls are limited per second per account, and the
sending application shares those limits.
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

    def _page_lists(self, method: str, key: str, **kwargs: Any) -> Iterator[list[Any]]:
        """Each page's items, one request a page, as long as the caller asks for more."""
        token: str | None = None
        while True:
            page = self._call(method, **kwargs, PageSize=PAGE_SIZE, **({"NextToken": token} if token else {}))
            yield list(page.get(key) or [])
            token = page.get("NextToken")
            if not token:
                return

    def _pages(self, method: str, key: str, **kwargs: Any) -> Iterator[Any]:
        for items in self._page_lists(method, key, **kwargs):
            yield from items

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

    def _with_entities(self, watched: tuple[Tenant, ...]) -> tuple[Tenant, ...]:
        entities: dict[str, Any] = {}
        prefix = tenant_arn_prefix(watched, self._config.prefix)
        if len(watched) > FEW_TENANTS and prefix is not None:
            missing = {t.arn for t in watched if t.arn}
            size_unknown = bool(self._config.names)
            listing = self._page_lists(
                "list_reputation_entities", "ReputationEntities", Filter={"ENTITY_REFERENCE_PREFIX": prefix}
            )
            for pages, items in enumerate(listing, start=1):
                for entity in items:
                    reference = entity.get("ReputationEntityReference")
                    if reference in missing:
                        entities[reference] = entity
                        missing.discard(reference)
                if not missing or (size_unknown and pages >= len(missing)):
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
