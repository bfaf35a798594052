"""Configure kopf from our settings and run it (in the calling thread, until SIGTERM or SIGINT)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
from typing import Any

import kopf

from sesmonitor.operator.events import kopf_poster
from sesmonitor.operator.handlers import build_registry
from sesmonitor.operator.kube import KubeApi, KubeError, load_api_client
from sesmonitor.operator.liveness import serve_liveness
from sesmonitor.operator.reconcile import Reconciler
from sesmonitor.operator.settings import KOPF_PREFIX, OperatorSettings

logger = logging.getLogger(__name__)


def kopf_settings(settings: OperatorSettings) -> kopf.OperatorSettings:
    ks = kopf.OperatorSettings()
    # kopf keeps its bookkeeping (retry progress, the last handled spec) in annotations, never in
    # `status`, whose schema is ours alone.
    ks.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
    ks.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=KOPF_PREFIX, key="last-handled-configuration"
    )
    ks.persistence.finalizer = f"{KOPF_PREFIX}/finalizer"  # never added (see handlers), named ours anyway
    ks.posting.reporting_component = settings.field_manager
    ks.posting.event_name_prefix = "sesmonitor-"
    # No scanning of CRDs and namespaces at runtime: the SesMonitor CRD is installed with the chart
    # before the operator starts, and namespaces are watched either all at once or by exact name.
    # This keeps the ClusterRole free of customresourcedefinitions and namespaces permissions.
    ks.scanning.disabled = True
    ks.peering.priority = settings.peering_priority
    ks.peering.stealth = True
    ks.watching.server_timeout = 300
    ks.watching.client_timeout = 330
    ks.networking.request_timeout = 60
    # Scale tuning, measured by benchmarks/operator_scale.py (docs/benchmarks.md, "Operator"):
    # - sync handlers (every reconcile, and the DELETED watcher) run in this pool, of a fixed size
    #   rather than kopf's CPUs + 4 of whatever node the pod lands on;
    ks.execution.executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=settings.handler_workers, thread_name_prefix="sesmonitor-handler"
    )
    # - wait for our own annotation patch to come back on the watch for longer than the handler
    #   queue can be under a burst, so that a stale event is never handled as a new SesMonitor.
    ks.persistence.consistency_timeout = settings.consistency_timeout
    return ks


def api_client(settings: OperatorSettings) -> Any:
    """The kubernetes ApiClient with one pooled connection per handler thread.

    Its default pool keeps CPUs x 5 connections (10 on two cores); with more threads than that,
    every request beyond it opened, and then dropped, a TLS connection of its own.
    """
    from kubernetes.client import rest

    client = load_api_client()
    configuration = client.configuration
    size = max(settings.handler_workers, configuration.connection_pool_maxsize or 0)
    if size != configuration.connection_pool_maxsize:
        configuration.connection_pool_maxsize = size
        client.rest_client = rest.RESTClientObject(configuration, maxsize=size)
    return client


def with_cluster_id(settings: OperatorSettings, api: KubeApi) -> OperatorSettings:
    """The settings with the cluster's identity for spec.protection's records: the configured one, else
    the kube-system namespace's UID; without either (no permission to read it), none: records then
    name `<namespace>/<name>` alone, as before (docs/protection.md)."""
    if settings.render_defaults.cluster_id:
        return settings
    if not settings.clusterwide:  # the chart grants a namespaced operator nothing cluster-wide
        logger.warning(
            "spec.protection's records name no cluster: set the chart's clusterID (SESMONITOR_CLUSTER_ID)"
            " to tell clusters apart"
        )
        return settings
    try:
        uid = api.namespace_uid("kube-system")
    except KubeError as exc:
        logger.warning(
            "cannot read the kube-system namespace's UID (%s): spec.protection's records name no cluster;"
            " set the chart's clusterID (SESMONITOR_CLUSTER_ID) to tell clusters apart",
            exc,
        )
        return settings
    defaults = dataclasses.replace(settings.render_defaults, cluster_id=uid)
    return dataclasses.replace(settings, render_defaults=defaults)


def run(settings: OperatorSettings) -> None:
    api = KubeApi(api_client(settings))
    settings = with_cluster_id(settings, api)
    reconciler = Reconciler(api=api, settings=settings, post=kopf_poster)
    registry = build_registry(settings.reconcile_interval)
    where = "all namespaces" if settings.clusterwide else "namespaces " + ", ".join(settings.namespaces)
    mode = "standalone" if settings.standalone else f"peering {settings.peering_name!r}"
    logger.info(
        "sesmonitor-operator watching %s (%s), reconciling every %gs with %d handler threads",
        where, mode, settings.reconcile_interval, settings.handler_workers,
    )  # fmt: skip
    with contextlib.suppress(asyncio.CancelledError):  # as kopf.run: a stop signal may cancel it
        asyncio.run(_operate(settings, registry, reconciler))


async def _operate(
    settings: OperatorSettings, registry: kopf.OperatorRegistry, reconciler: Reconciler
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if settings.liveness_endpoint:
            # Ours rather than kopf's, for IPv6 and IPv4 on one socket (see `liveness`).
            await stack.enter_async_context(serve_liveness(settings.liveness_endpoint))
        await kopf.operator(
            registry=registry,
            settings=kopf_settings(settings),
            memo=kopf.Memo(reconciler=reconciler),
            standalone=settings.standalone,
            peering_name=settings.peering_name,
            priority=settings.peering_priority,
            namespaces=list(settings.namespaces),
            clusterwide=settings.clusterwide,
        )
