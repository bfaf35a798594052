"""Which of the account's tenants spec.tenants watches (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from sesmonitor.contract import TenantsConfig
from sesmonitor.exporter.model.tenants import Tenant


def select(listed: Iterable[Tenant], config: TenantsConfig) -> tuple[tuple[Tenant, ...], int]:
    """(the watched tenants, by name; how many matched). Those whose name starts with the prefix, or all;
    the first `limit` by name, so the same tenants stay watched from one read to the next."""
    matching = sorted(
        {t.name: t for t in listed if not config.prefix or t.name.startswith(config.prefix)}.values(),
        key=lambda t: t.name,
    )
    return tuple(matching[: config.limit]), len(matching)


def missing_names(found: Iterable[str], config: TenantsConfig) -> tuple[str, ...]:
    """The listed names AWS answered NotFound for, in the spec's order."""
    seen = set(found)
    return tuple(name for name in config.names if name not in seen)
