"""kopf handlers: thin glue that calls `Reconciler.reconcile` and maps its failures onto kopf retries.

- ``on.create`` / ``on.update`` / ``on.resume``: reconcile at once when a SesMonitor appears, changes,
  or is found at startup;
- a timer: reconcile every ``reconcile_interval`` seconds, level-based, so a child deleted or edited
  by hand comes back and the status follows the exporter; after a failure it retries with a doubling
  backoff instead (in memory: the timer writes nothing to the object);
- ``on.event``: notice deletions, so the timer of a deleted SesMonitor stops.

No finalizers. kopf puts one on every object with a timer so that it can stop the timer before the
object goes; we stop it on the DELETED event instead (the timer's ``when`` filter stops matching) and
let garbage collection remove the children through their owner references. A SesMonitor can thus be
deleted even when the operator is not running, and none is ever left behind.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import kopf

from sesmonitor.api import GROUP, PLURAL, VERSION
from sesmonitor.operator.kube import KubeError
from sesmonitor.operator.reconcile import ReconcileFailed, Reconciler, backoff

TIMER_ID = "reconcile-periodically"
# kopf retries a failing create/update handler this many times (its progress kept in annotations);
# after that the timer keeps retrying, in memory.
HANDLER_RETRIES = 5


def run_reconcile(reconciler: Reconciler, namespace: str, name: str, retry: int) -> None:
    """Reconcile; a failure becomes kopf.TemporaryError with backoff (PermanentError when retrying
    the same spec cannot help)."""
    try:
        reconciler.reconcile(namespace, name)
    except ReconcileFailed as exc:
        if exc.permanent:
            raise kopf.PermanentError(str(exc)) from None
        raise kopf.TemporaryError(str(exc), delay=backoff(retry, reconciler.settings)) from None
    except KubeError as exc:  # reading the SesMonitor itself failed
        raise kopf.TemporaryError(
            f"reading the SesMonitor failed: {exc}", delay=backoff(retry, reconciler.settings)
        ) from None


def _reconciler(memo: Any) -> Reconciler:
    reconciler: Reconciler = memo.reconciler
    return reconciler


def build_registry(reconcile_interval: float) -> kopf.OperatorRegistry:
    """A registry with every handler of the operator (nothing registered globally at import)."""
    registry = kopf.OperatorRegistry()
    resource = (GROUP, VERSION, PLURAL)

    @kopf.on.login(id="login", registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        info: kopf.ConnectionInfo | None = kopf.login_with_service_account(
            **kwargs
        ) or kopf.login_with_kubeconfig(**kwargs)
        return info

    @kopf.on.create(*resource, id="reconcile-on-create", registry=registry, retries=HANDLER_RETRIES)
    @kopf.on.update(*resource, id="reconcile-on-update", registry=registry, retries=HANDLER_RETRIES)
    @kopf.on.resume(*resource, id="reconcile-on-resume", registry=registry, retries=HANDLER_RETRIES)
    def on_change(*, namespace: str | None, name: str, retry: int, memo: Any, **_: Any) -> None:
        run_reconcile(_reconciler(memo), namespace or "", name, retry)

    def alive(*, uid: str, memo: Any, **_: Any) -> bool:
        return uid not in _reconciler(memo).deleted

    @kopf.timer(
        *resource,
        id=TIMER_ID,
        registry=registry,
        interval=reconcile_interval,
        initial_delay=reconcile_interval,  # the create/resume handler makes the first pass
        when=alive,
    )
    def periodically(*, namespace: str | None, name: str, memo: Any, **kwargs: Any) -> None:
        run_reconcile(_reconciler(memo), namespace or "", name, int(kwargs.get("retry") or 0))

    @kopf.on.event(*resource, id="notice-deletion", registry=registry)
    def on_event(*, type: str, namespace: str | None, name: str, uid: str, memo: Any, **_: Any) -> None:
        if type == "DELETED":
            _reconciler(memo).forget(namespace or "", name, uid)

    _drop_timer_finalizer(registry)
    return registry


def _drop_timer_finalizer(registry: kopf.OperatorRegistry) -> None:
    """Register the timer without kopf's finalizer (see the module docstring).

    kopf has no public switch for this, so the frozen handler is replaced by a copy with
    ``requires_finalizer=False``; `tests/unit/test_operator_apply.py` checks that this still works.
    """
    spawning = registry._spawning
    handlers = spawning._handlers
    for index, handler in enumerate(handlers):
        if handler.id == TIMER_ID:
            handlers[index] = dataclasses.replace(handler, requires_finalizer=False)
            return
    raise RuntimeError(f"timer {TIMER_ID!r} not found in the registry")


def requires_finalizer(registry: kopf.OperatorRegistry) -> bool:
    """Whether any handler in ``registry`` would make kopf add its finalizer."""
    spawning = any(h.requires_finalizer for h in registry._spawning.get_all_handlers())
    changing = any(h.requires_finalizer for h in registry._changing.get_all_handlers())
    return spawning or changing
