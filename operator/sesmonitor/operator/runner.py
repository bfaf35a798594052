"""Configure kopf from our settings and run it (in the calling thread, until SIGTERM or SIGINT)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime
import getpass
import logging
import os
import secrets
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any

import kopf
import prometheus_client

from sesmonitor.operator.events import api_poster
from sesmonitor.operator.handlers import build_registry
from sesmonitor.operator.kube import KubeApi, KubeError, load_api_client
from sesmonitor.operator.liveness import serve_liveness
from sesmonitor.operator.metrics_endpoint import serve_metrics
from sesmonitor.operator.peering import observe, replica_priority
from sesmonitor.operator.reconcile import Reconciler
from sesmonitor.operator.settings import KOPF_PREFIX, OperatorSettings
from sesmonitor.operator.telemetry import OperatorTelemetry

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


def identity() -> str:
    """This replica's name in the peering objects: the Pod's name (the chart's POD_ID), else as kopf
    makes one up outside a cluster. Given to kopf, so `peering` finds this replica's entry."""
    pod = os.environ.get("POD_ID")
    if pod:
        return pod
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")
    return f"{getpass.getuser()}@{socket.gethostname()}/{stamp}/{secrets.token_hex(2)}"


def peering_reader(api: KubeApi, settings: OperatorSettings) -> Any:
    """The peering objects kopf keeps for these settings: one ClusterKopfPeering, or a KopfPeering
    per watched namespace."""

    def read() -> Sequence[Mapping[str, Any] | None]:
        name = settings.peering_name or ""
        if settings.clusterwide:
            return [api.get("kopf.dev/v1", "ClusterKopfPeering", "", name)]
        return [api.get("kopf.dev/v1", "KopfPeering", namespace, name) for namespace in settings.namespaces]

    return read


def run(settings: OperatorSettings) -> None:
    # A *_created series beside every counter and histogram doubles what is scraped and says
    # nothing the process' start time does not.
    prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
    if not settings.standalone:  # equal priorities would pause every replica (peering.replica_priority)
        priority = replica_priority(settings.peering_priority, time.time())
        settings = dataclasses.replace(settings, peering_priority=priority)
    telemetry = OperatorTelemetry(peering=settings.peering_name)
    api = KubeApi(api_client(settings), on_error=telemetry.api_error)
    settings = with_cluster_id(settings, api)
    reconciler = Reconciler(api=api, settings=settings, post=api_poster(api), telemetry=telemetry)
    registry = build_registry(settings.reconcile_interval)
    where = "all namespaces" if settings.clusterwide else "namespaces " + ", ".join(settings.namespaces)
    mode = "standalone" if settings.standalone else f"peering {settings.peering_name!r}"
    logger.info(
        "sesmonitor-operator watching %s (%s), reconciling every %gs with %d handler threads",
        where, mode, settings.reconcile_interval, settings.handler_workers,
    )  # fmt: skip
    with contextlib.suppress(asyncio.CancelledError):  # as kopf.run: a stop signal may cancel it
        asyncio.run(_operate(settings, registry, reconciler, api))


async def _operate(
    settings: OperatorSettings, registry: kopf.OperatorRegistry, reconciler: Reconciler, api: KubeApi
) -> None:
    me = identity()
    async with contextlib.AsyncExitStack() as stack:
        if settings.liveness_endpoint:
            # Ours rather than kopf's, for IPv6 and IPv4 on one socket (see `liveness`).
            await stack.enter_async_context(serve_liveness(settings.liveness_endpoint))
        if settings.metrics_endpoint:
            await stack.enter_async_context(
                serve_metrics(settings.metrics_endpoint, reconciler.telemetry.registry)
            )
        if not settings.standalone:
            watcher = asyncio.create_task(
                observe(
                    peering_reader(api, settings),
                    me,
                    settings.peering_priority,
                    reconciler.telemetry.set_active,
                ),
                name="sesmonitor peering state",
            )
            stack.callback(watcher.cancel)
        await kopf.operator(
            registry=registry,
            settings=kopf_settings(settings),
            memo=kopf.Memo(reconciler=reconciler),
            standalone=settings.standalone,
            peering_name=settings.peering_name,
            priority=settings.peering_priority,
            identity=me,  # type: ignore[arg-type]  # kopf's Identity is a NewType of str
            namespaces=list(settings.namespaces),
            clusterwide=settings.clusterwide,
        )
