"""spec.protection's decision (sesmonitor.exporter.protection.decide): a table per rule, plus flapping."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from sesmonitor.api import SpecError
from sesmonitor.contract import ConfigError, ExporterConfig, ProtectionConfig
from sesmonitor.exporter.model import record as r
from sesmonitor.exporter.model.series import Series
from sesmonitor.exporter.protection import decide as p
from sesmonitor.exporter.protection.protector import record_of, tags_of
from sesmonitor.render.workload import exporter_config
from support.monitors import load_monitor

MONITOR = "mail/prod"
CLUSTER = "0d9a3c1e-5b7f-4c2a-9e61-2f8b7a4c6d10"  # a kube-system namespace UID
OWNER = r.owner_id(CLUSTER, MONITOR)
NOW = 1_800_000_000.0
BOUNCE, COMPLAINT = r.RATES
CONFIG = ProtectionConfig("Enforce", ("marketing",), 0.10, 0.005, hold_seconds=600, cooldown_seconds=3600)


def series(values: list[float | None], *, newest_age: float = 60.0, step: float = 60.0) -> Series:
    """Newest first: values[0] is `newest_age` old, each next one `step` older; None = no datapoint."""
    points = [(NOW - newest_age - i * step, v) for i, v in enumerate(values) if v is not None]
    return Series(tuple(t for t, _ in points), tuple(float(v) for _, v in points))


HIGH = series([0.12] * 15)  # 15 minutes at 12%: held for 14 minutes
LOW = series([0.001] * 15)


def facts(**changes: Any) -> p.SetFacts:
    base = p.SetFacts("marketing", True, True, None, {BOUNCE: HIGH, COMPLAINT: LOW})
    return replace(base, **changes)


def paused(monitor: str = OWNER, at: float = NOW - 300, state: str = r.PAUSED, dry: bool = False) -> r.Record:
    return r.Record(state, at, monitor, BOUNCE, 0.12, dry=dry)


def resumed(at: float, state: str = r.RESUMED) -> r.Record:
    return r.Record(state, at, OWNER, BOUNCE, 0.12)


@pytest.mark.parametrize(
    ("case", "the_facts", "action"),
    [
        ("offending set pauses", facts(), p.PAUSE),
        ("complaint rate alone pauses", facts(rates={BOUNCE: LOW, COMPLAINT: series([0.006] * 15)}), p.PAUSE),
        ("healthy set is left alone", facts(rates={BOUNCE: LOW, COMPLAINT: LOW}), p.NONE),
        # Never on a set that is not listed in spec.protection.
        ("unlisted set", facts(name="transactional"), p.NONE),
        # Never without knowing the sending state, sesmonitor's record or this refresh's data.
        ("sending state unread", facts(sending_enabled=None), p.NONE),
        ("record (tags) unread", facts(record_known=False), p.NONE),
        ("no CloudWatch read this refresh", facts(rates=None), p.NONE),
        ("no datapoint", facts(rates={BOUNCE: Series((), ())}), p.NONE),
        (
            "newest datapoint stale",
            facts(rates={BOUNCE: series([0.12] * 30, newest_age=p.FRESH_SECONDS + 60)}),
            p.NONE,
        ),
        ("two bad minutes", facts(rates={BOUNCE: series([0.12, 0.12])}), p.NONE),
        ("not held long enough", facts(rates={BOUNCE: series([0.12] * 5 + [0.02] * 10)}), p.NONE),
        ("NaN is no datapoint", facts(rates={BOUNCE: series([math.nan] * 15)}), p.NONE),
        ("at exactly the level pauses", facts(rates={BOUNCE: series([0.10] * 15)}), p.PAUSE),
        ("just below the level", facts(rates={BOUNCE: series([0.0999] * 15)}), p.NONE),
        # Gaps (no mail, no datapoint) neither break nor make the streak.
        ("held across a gap", facts(rates={BOUNCE: series([0.12] * 3 + [None] * 15 + [0.12] * 3)}), p.PAUSE),
        # Acts once: a paused set is never paused again, whoever paused it.
        ("already paused by us", facts(sending_enabled=False, record=paused()), p.NONE),
        ("paused by someone else", facts(sending_enabled=False, record=None), p.NONE),
        # Never resumes a set someone else paused, even when asked.
        ("asked, paused by someone else", facts(sending_enabled=False, resume_requested=True), p.NONE),
        (
            "asked, paused by another monitor",
            facts(sending_enabled=False, record=paused("c2/other/monitor"), resume_requested=True),
            p.NONE,
        ),
        # Same-named monitors of two clusters are two owners (item 2); an old record (no cluster) is ours.
        (
            "asked, paused by the same-named monitor of another cluster",
            facts(sending_enabled=False, record=paused(f"another-uid/{MONITOR}"), resume_requested=True),
            p.NONE,
        ),
        (
            "asked, our legacy record",
            facts(sending_enabled=False, record=paused(MONITOR), resume_requested=True),
            p.RESUME,
        ),
        (
            "asked after our pause",
            facts(sending_enabled=False, record=paused(), resume_requested=True),
            p.RESUME,
        ),
        ("not asked", facts(sending_enabled=False, record=paused()), p.NONE),
        # A crash between the intent and the pause call: a paused set with our intent is ours to resume.
        (
            "asked, our intent on a paused set",
            facts(sending_enabled=False, record=paused(state=r.PAUSING), resume_requested=True),
            p.RESUME,
        ),
        ("re-enabled by hand", facts(record=paused(), pause_confirmed=True), p.NOTE_RESUMED),
        # Every observed re-enable is a resume (item 4): a person's pause undone by a person, another
        # monitor's pause undone.
        ("hand pause re-enabled by hand", facts(disabled_at=NOW - 60), p.NOTE_RESUMED),
        ("another monitor's pause re-enabled", facts(record=paused("c2/other/monitor")), p.NOTE_RESUMED),
        (
            "re-enabled by hand within our old cooldown",
            facts(record=resumed(NOW - 600), disabled_at=NOW - 60),
            p.NOTE_RESUMED,
        ),
        # A re-enable the record already tells of (another monitor's resume) starts no second cooldown.
        (
            "another monitor resumed it after our read",
            facts(record=r.Record(r.RESUMED, NOW - 3, "c2/o/m"), disabled_at=NOW - 60),
            p.NONE,
        ),
        ("observed re-enable starts the cooldown", facts(record=resumed(NOW - 60, r.REENABLED)), p.NONE),
        # A read still saying enabled right after our pause is stale, not a re-enable (item 7).
        ("stale read right after our pause", facts(record=paused(at=NOW - 5), disabled_at=NOW - 65), p.NONE),
        (
            "unconfirmed past the grace",
            facts(record=paused(at=NOW - p.CONFIRM_GRACE_SECONDS)),
            p.NOTE_RESUMED,
        ),
        # Another monitor's intent: it is pausing the set; ours or an old one claims nothing.
        (
            "another monitor is pausing it",
            facts(record=paused("c2/o/m", at=NOW - 2, state=r.PAUSING)),
            p.NONE,
        ),
        (
            "another monitor's intent long ago",
            facts(record=paused("c2/o/m", at=NOW - p.CONFIRM_GRACE_SECONDS, state=r.PAUSING)),
            p.PAUSE,
        ),
        ("our abandoned intent", facts(record=paused(at=NOW - 2, state=r.ABANDONED)), p.PAUSE),
        # The cooldown after a resume holds; then protection acts again.
        ("in the cooldown", facts(record=resumed(NOW - 3599)), p.NONE),
        ("after the cooldown", facts(record=resumed(NOW - 3600)), p.PAUSE),
    ],
)
def test_decide(case: str, the_facts: p.SetFacts, action: str) -> None:
    decision = p.decide(CONFIG, OWNER, MONITOR, the_facts, NOW)
    assert decision.action == action, f"{case}: {decision.reason}"


def test_dry_run_would_pause_and_names_the_rate() -> None:
    decision = p.decide(replace(CONFIG, mode="DryRun"), OWNER, MONITOR, facts(), NOW)
    assert decision.action == p.WOULD_PAUSE
    assert (decision.metric, decision.rate, decision.level) == (BOUNCE, 0.12, 0.10)
    assert decision.reason == "bounce rate 12.00% at or above 10.00% for 10m or more"


def test_the_decision_never_touches_the_account() -> None:
    """Its only outcomes concern the one set it was given; there is no account-level action at all."""
    actions = {
        p.decide(CONFIG, OWNER, MONITOR, facts(name=n), NOW).action for n in ("marketing", "", "account")
    }
    assert actions == {p.PAUSE, p.NONE}
    assert not [name for name in dir(p) if "account" in name.lower()]


def simulate(config: ProtectionConfig, rate_at: Any, hours: float = 8.0) -> list[tuple[float, str]]:
    """Refresh every minute for `hours`, applying each action to the simulated set; mail (so datapoints)
    only in 5-minute bursts every 20 minutes, as in the seed."""
    sending, record, actions = True, None, []
    points: list[tuple[float, float]] = []
    start = NOW
    for minute in range(int(hours * 60)):
        now = start + minute * 60
        if minute % 20 < 5:
            points.append((now - 60, rate_at(minute)))
        window = [(t, v) for t, v in points if t >= now - 7200][::-1]
        data = Series(tuple(t for t, _ in window), tuple(v for _, v in window))
        decision = p.decide(
            config, OWNER, MONITOR, p.SetFacts("marketing", sending, True, record, {BOUNCE: data}), now
        )
        if decision.action == p.PAUSE:
            sending, record = False, r.Record(r.PAUSED, now, OWNER, BOUNCE, decision.rate)
        if decision.action != p.NONE:
            actions.append((now, decision.action))
    return actions


@pytest.mark.parametrize("period_minutes", [7, 20, 40, 60])
@pytest.mark.parametrize("amplitude", [0.005, 0.02])
def test_flapping_around_the_level_pauses_at_most_once(period_minutes: int, amplitude: float) -> None:
    def rate(minute: int) -> float:
        return 0.10 + amplitude * math.sin(2 * math.pi * minute / period_minutes)

    actions = simulate(CONFIG, rate)
    assert len(actions) <= 1, actions
    assert all(action == p.PAUSE for _, action in actions)


def test_bursts_above_the_level_pause_once_after_the_hold() -> None:
    actions = simulate(CONFIG, lambda _m: 0.12)
    assert len(actions) == 1
    # The first burst spans 4 minutes, short of the hold (10m); the next burst's first datapoint,
    # 20 minutes later, makes the streak (across the gap) long enough.
    assert actions[0] == (NOW + 20 * 60, p.PAUSE)


def test_dry_run_owns_the_pauses_enforce_made() -> None:
    """Item 5: DryRun refuses, saying why, to resume a real pause of its own (it writes nothing to AWS),
    and resumes its own would-be pause in memory."""
    dry = replace(CONFIG, mode="DryRun")
    real = p.decide(
        dry, OWNER, MONITOR, facts(sending_enabled=False, record=paused(), resume_requested=True), NOW
    )
    assert real.action == p.REFUSE_RESUME
    assert "switch it back to Enforce" in real.reason
    own = facts(sending_enabled=False, record=paused(dry=True), resume_requested=True)
    assert p.decide(dry, OWNER, MONITOR, own, NOW).action == p.RESUME


def test_the_owner_is_a_bounded_tag_value() -> None:
    assert f"{CLUSTER}/{MONITOR}" == OWNER
    assert r.owner_id("", MONITOR) == MONITOR  # no cluster id: as older releases wrote
    long = r.owner_id(CLUSTER, "n" * 63 + "/" + "m" * 253)
    assert len(long) == r.MAX_TAG_VALUE
    assert long != r.owner_id(CLUSTER, "n" * 63 + "/" + "m" * 252 + "x")  # the cut keeps names apart
    assert not r.TAG_VALUE_FORBIDDEN.search(long)
    assert r.owns(OWNER, paused(MONITOR), MONITOR)  # legacy: this cluster's
    assert not r.owns(OWNER, paused(f"another-uid/{MONITOR}"), MONITOR)


def test_record_round_trips_through_tags() -> None:
    record = r.Record(r.PAUSED, 1_800_000_000.0, OWNER, BOUNCE, 0.1234, request="7")
    tags = tags_of(record)
    assert all("%" not in t["Value"] for t in tags)  # SES tag values allow no %
    assert record_of(tags) == record
    assert record_of([]) is None
    assert record_of([{"Key": "team", "Value": "mail"}]) is None
    assert record_of([*tags[:1], {"Key": "sesmonitor:at", "Value": "yesterday"}, *tags[2:]]) is None


def monitor(protection: dict[str, Any], sets: tuple[str, ...] = ("marketing", "transactional")) -> Any:
    return load_monitor({"configurationSets": list(sets), "protection": protection})


def test_spec_renders_levels_from_the_critical_thresholds() -> None:
    config = exporter_config(monitor({"mode": "Enforce", "configurationSets": ["marketing"]})).protection
    assert config == ProtectionConfig("Enforce", ("marketing",), 0.10, 0.005, 600, 3600)
    own = monitor({"mode": "DryRun", "configurationSets": ["marketing"], "bounceRate": "8%", "holdFor": "2m"})
    assert exporter_config(own).protection == ProtectionConfig(
        "DryRun", ("marketing",), 0.08, 0.005, 120, 3600
    )
    assert exporter_config(monitor({})).protection is None
    assert "protection" not in exporter_config(monitor({})).to_json()  # unchanged file without it
    # The cluster's identity goes into protection's config only: a monitor without it keeps its file.
    on = monitor({"mode": "Enforce", "configurationSets": ["marketing"]})
    assert exporter_config(on, CLUSTER).protection == replace(config, cluster_id=CLUSTER)
    assert exporter_config(monitor({}), CLUSTER).to_json() == exporter_config(monitor({})).to_json()


def test_exporter_config_round_trips_protection() -> None:
    config = exporter_config(monitor({"mode": "Enforce", "configurationSets": ["marketing"]}))
    assert ExporterConfig.from_json(config.to_json()) == config
    broken = config.to_json().replace('"Enforce"', '"Sometimes"')
    with pytest.raises(ConfigError, match=r"protection\.mode"):
        ExporterConfig.from_json(broken)


@pytest.mark.parametrize(
    ("protection", "message"),
    [
        ({"mode": "Enforce", "configurationSets": ["promo"]}, "protection.configurationSets: promo not in"),
        ({"mode": "Enforce"}, "DryRun and Enforce need configurationSets"),
        (
            {"mode": "Enforce", "configurationSets": ["marketing"], "bounceRate": "12"},
            "spec.protection.bounceRate",
        ),
        ({"mode": "Sometimes", "configurationSets": ["marketing"]}, "spec.protection.mode"),
        (
            {"mode": "Enforce", "configurationSets": ["marketing"], "holdFor": "30s"},
            "spec.protection.holdFor",
        ),
    ],
)
def test_invalid_protection_names_the_field(protection: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        monitor(protection)
    assert message in str(caught.value)


def test_iam_policy_gains_protection_only_when_it_is_on() -> None:
    import json
    from pathlib import Path

    from sesmonitor.render.iam import iam_policy

    documented = json.loads((Path(__file__).resolve().parents[2] / "docs" / "iam-policy.json").read_text())
    assert iam_policy(monitor({})) == documented
    dry = iam_policy(monitor({"mode": "DryRun", "configurationSets": ["marketing"]}))["Statement"][-1]
    assert dry["Action"] == ["ses:ListTagsForResource"]  # DryRun writes nothing
    enforce, tag = iam_policy(monitor({"mode": "Enforce", "configurationSets": ["marketing"]}))["Statement"][
        -2:
    ]
    assert enforce["Action"] == ["ses:PutConfigurationSetSendingOptions", "ses:ListTagsForResource"]
    assert tag["Action"] == ["ses:TagResource"]  # scoped to sesmonitor's keys: test_protection_iam.py
    for statement in (enforce, tag):
        assert statement["Resource"] == ["arn:aws:ses:us-east-1:*:configuration-set/marketing"]
