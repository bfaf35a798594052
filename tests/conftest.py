"""Shared test setup: ``tests/`` on sys.path (so tests ``import support...``), and the one real cluster.

``kube_cluster`` (session): a ``support.kube_cluster.NodeCluster``, a single-node cluster built here
(control plane, kube-scheduler, kubelet, containerd, runc, CNI bridge, kube-proxy, CoreDNS) in its own
network and mount namespace, started on first use and shared by every tier that needs pods (cluster,
e2e). Its workdir and logs stay under pytest's basetemp when a test failed.

Every test under ``tests/cluster/`` is marked ``cluster``, under ``tests/e2e/`` ``e2e``.

``background_demo``: the `scripts/demo.py --once` runs that a selected test checks
(``BACKGROUND_DEMOS``), started as soon as pytest has collected the session, so each one's cluster
and minutes of waiting on the wall clock overlap the other tiers instead of following them.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from support.demo_runs import DemoRun, start_demo  # noqa: E402
from support.kube_cluster import NodeCluster  # noqa: E402

# The tiers whose every test carries the marker of its folder's name (deselect with -m "not cluster").
MARKED_TIERS = ("cluster", "e2e")
# test name -> (scenario, the demo's --timeout in seconds)
BACKGROUND_DEMOS = {"test_bad_list_warns_early_and_names_the_domain": ("bad-list", 1200.0)}
_DEMOS = pytest.StashKey[dict[str, DemoRun]]()
_DEMOS_DIR = pytest.StashKey[Path]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath)).resolve()
        tier = path.relative_to(_TESTS).parts[0] if path.is_relative_to(_TESTS) else None
        if tier in MARKED_TIERS:
            item.add_marker(getattr(pytest.mark, tier))
    # The tests that check on a background demo go last (a stable sort keeps the rest in order), so
    # that whatever is left of the demo's minutes overlaps every other test instead of waiting in line.
    items.sort(key=lambda item: item.name in BACKGROUND_DEMOS)


def pytest_collection_finish(session: pytest.Session) -> None:
    selected = {item.name for item in session.items} & BACKGROUND_DEMOS.keys()
    runs: dict[str, DemoRun] = {}
    if selected and not session.config.option.collectonly:
        workdir = Path(tempfile.mkdtemp(prefix="sesmonitor-demos-"))
        session.config.stash[_DEMOS_DIR] = workdir
        for name in sorted(selected):
            scenario, timeout = BACKGROUND_DEMOS[name]
            runs[name] = start_demo(scenario, workdir / scenario, timeout)
    session.config.stash[_DEMOS] = runs


def pytest_sessionfinish(session: pytest.Session) -> None:
    for run in session.config.stash.get(_DEMOS, {}).values():
        run.stop()
    workdir = session.config.stash.get(_DEMOS_DIR, None)
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def background_demo(request: pytest.FixtureRequest) -> DemoRun:
    """The run started for the requesting test (its name is in ``BACKGROUND_DEMOS``)."""
    return request.config.stash[_DEMOS][request.node.name]


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeCluster]:
    workdir = tmp_path_factory.mktemp("kube-cluster")
    cluster = NodeCluster(workdir, log=lambda m: print(f"[cluster] {m}", flush=True))
    print(f"\nreal cluster up: {cluster.step_seconds}")
    try:
        yield cluster
    finally:
        cluster.stop()
