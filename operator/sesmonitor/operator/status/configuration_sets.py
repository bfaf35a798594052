"""The ConfigurationSetsFound condition, from the exporter's /status. Pure.

Only with spec.configurationSets. Each set is its own GetConfigurationSet in the exporter, so a set SES
does not have (deleted, or misspelled in the spec) is a state of its own, named here, while the other
sets are read and protected as usual: it leaves Ready alone (the monitor works for every other set).
"""

from __future__ import annotations

from typing import Final

from sesmonitor.api import SesMonitorSpec
from sesmonitor.api.status import CONFIGURATION_SETS_FOUND
from sesmonitor.contract import ExporterStatus
from sesmonitor.metrics import API_CONFIGURATION_SET
from sesmonitor.operator.shapes import Condition

ALL_FOUND: Final = "AllFound"
CONFIGURATION_SET_MISSING: Final = "ConfigurationSetMissing"
NOT_READ_YET: Final = "NotReadYet"


def configuration_sets_condition(
    spec: SesMonitorSpec, doc: ExporterStatus | None, unavailable: Condition | None
) -> Condition | None:
    listed = list(spec.configuration_sets)
    if not listed:
        return None
    if unavailable is not None or doc is None:
        why = unavailable.message if unavailable is not None else "the exporter's /status was not read"
        reason = unavailable.reason if unavailable is not None else NOT_READ_YET
        return Condition(CONFIGURATION_SETS_FOUND, "Unknown", reason, f"configuration sets unknown: {why}")
    missing = [name for name in doc.configuration_sets_missing if name in listed]
    if missing:
        guarded = spec.protection.configuration_sets if spec.protection.mode != "Off" else []
        protected = [name for name in missing if name in guarded]
        guard = f"; not protected while missing: {', '.join(protected)}" if protected else ""
        return Condition(
            CONFIGURATION_SETS_FOUND, "False", CONFIGURATION_SET_MISSING,
            f"SES has no configuration set {', '.join(missing)} in {spec.region} (GetConfigurationSet:"
            f" NotFoundException): deleted, or misspelled in spec.configurationSets{guard}; the other sets"
            " are read and protected as usual",
        )  # fmt: skip
    api = doc.apis.get(API_CONFIGURATION_SET)
    if api is None or api.get("last_success_time") is None:
        return Condition(
            CONFIGURATION_SETS_FOUND, "Unknown", NOT_READ_YET, "the exporter has not read the sets yet"
        )
    return Condition(
        CONFIGURATION_SETS_FOUND, "True", ALL_FOUND, f"SES has every listed set: {', '.join(listed)}"
    )
