"""What spec.tenants costs each tenant over simulated hours (issue 21 item 6: at most 1 SESv2 request per
tenant per 10 minutes). The exporter's own tenants loop reads through the stand-in over HTTP; the clock is
simulated, advanced by the loop's `next_delay()` after each read, and the stand-in logs each answered call
on that clock with the tenants it was about (`TenantsStandIn.requests`). No timing: counts only."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from sesmonitor import contract
from sesmonitor.exporter.tenants.loop import TenantsLoop
from sesmonitor.exporter.tenants.reader import TenantsReader
from support.exporter_checks import get
from support.simulated_aws.tenants import TenantRequest

TEN_MINUTES = 600.0
HOURS = 3.0
START = 1_800_000_000.0
TENANT_CALLS = ("ListTenants", "GetTenant", "ListReputationEntities", "GetReputationEntity")


class SimulatedClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def run_for(
    loop: TenantsLoop,
    clock: SimulatedClock,
    hours: float,
    faults: dict[int, Callable[[], None]] | None = None,
):
    """Read, then wait `next_delay()`, until `hours` of simulated time are over; (read, outcome) pairs.
    `faults`: read index -> a callable run before that read (injects an AWS error)."""
    end = clock.now + hours * 3600
    outcomes = []
    while clock.now < end:
        if faults and len(outcomes) in faults:
            faults[len(outcomes)]()
        outcomes.append(loop.read_once(clock.now))
        clock.now += loop.next_delay()
    return outcomes


def per_tenant_per_ten_minutes(requests: Iterable[TenantRequest], hours: float) -> dict[str, float]:
    """Each tenant's requests per 10 minutes: a call about one tenant costs it 1, a page its share."""
    cost: Counter[str] = Counter()
    for request in requests:
        for name in request.tenants:
            cost[name] += 1 / len(request.tenants)
    return {name: total / (hours * 3600 / TEN_MINUTES) for name, total in cost.items()}


def shortest_repeat(requests: Iterable[TenantRequest]) -> float:
    """The shortest time between two calls of one operation about one tenant."""
    seen: dict[tuple[str, str], list[float]] = defaultdict(list)
    for request in requests:
        for name in request.tenants:
            seen[request.operation, name].append(request.at)
    gaps = [b - a for times in seen.values() for a, b in itertools.pairwise(times)]
    return min(gaps, default=float("inf"))


def account_requests(ses) -> int:
    """Every tenant call the proxy saw, failed ones too (an injected error never reaches the stand-in)."""
    return sum(ses.proxy.count(op) for op in TENANT_CALLS)


def start(simulated_ses, make_exporter, count: int, tenants: contract.TenantsConfig):
    clock = SimulatedClock()
    ses = simulated_ses("healthy", hours=0.5)
    ses.proxy.tenants.clock = clock
    for i in range(count):
        ses.proxy.tenants.add_tenant(f"t{i:04d}")
    ses.proxy.reset()
    exporter = make_exporter(ses, clock=clock, tenants=tenants)
    assert exporter.tenants is not None
    return ses, exporter, clock


def test_all_tenants_over_the_limit_stay_far_under_one_request_per_tenant_per_ten_minutes(
    simulated_ses, make_exporter
):
    ses, exporter, clock = start(simulated_ses, make_exporter, 1050, contract.TenantsConfig(limit=1000))

    def throttle() -> None:
        ses.proxy.inject("ListReputationEntities", "throttle", times=1)

    outcomes = run_for(exporter.tenants, clock, HOURS, faults={3: throttle})
    assert outcomes.count(False) == 1  # the throttled read failed, kept the last reading
    assert len(outcomes) == 9  # every 20 minutes, the failed one's backoff no shorter
    requests = ses.proxy.tenants.requests()
    cost = per_tenant_per_ten_minutes(requests, HOURS)
    assert len(cost) == 1050  # every listed tenant was on a page
    # 11 pages of ListTenants and 11 of ListReputationEntities a read, shared by 100 tenants each
    assert max(cost.values()) <= 0.025  # the last, half-full pages: 0.02
    assert account_requests(ses) / 1000 / (HOURS * 6) <= 0.02
    assert shortest_repeat(requests) >= 2 * TEN_MINUTES
    status = get(exporter, "/status").json()["tenants"]
    assert (status["matching"], status["watched"]) == (1050, 1000)
    assert "1050 tenants match (all), more than spec.tenants.limit 1000" in status["message"]


def test_listed_names_cost_each_tenant_one_request_per_ten_minutes_at_most(simulated_ses, make_exporter):
    # more than FEW_TENANTS: listed names are still read one by one, never through the account's listing
    names = (*(f"t{i:04d}" for i in range(20)), "gone")
    ses, exporter, clock = start(simulated_ses, make_exporter, 40, contract.TenantsConfig(names=names))
    outcomes = run_for(exporter.tenants, clock, HOURS)
    assert outcomes == [True] * 9
    requests = ses.proxy.tenants.requests()
    cost = per_tenant_per_ten_minutes(requests, HOURS)
    assert sorted(cost) == list(names[:-1])  # the 20 unlisted tenants cost nothing
    # GetTenant and GetReputationEntity each read, 9 reads in 18 ten-minute slots: exactly the bound
    assert max(cost.values()) <= 1.0
    assert min(cost.values()) == 1.0
    assert shortest_repeat(requests) >= 2 * TEN_MINUTES
    assert account_requests(ses) == 9 * (21 + 20)  # "gone": GetTenant answers NotFound, nothing more


def test_the_count_catches_a_loop_that_reads_too_often(simulated_ses, make_exporter):
    """The measure above fails for a loop that reads the listed names every 15 minutes."""
    names = ("t0000", "t0001")
    ses, exporter, clock = start(simulated_ses, make_exporter, 2, contract.TenantsConfig(names=names))
    reader = TenantsReader(exporter.clients.sesv2, contract.TenantsConfig(names=names), pace_seconds=0)
    too_often = TenantsLoop(reader, exporter.state, 900, clock)
    run_for(too_often, clock, HOURS)
    requests = ses.proxy.tenants.requests()
    assert min(per_tenant_per_ten_minutes(requests, HOURS).values()) > 1.0
    assert shortest_repeat(requests) < 2 * TEN_MINUTES
