"""The SesMonitor API: spec and status models, validation, quantities and the generated CRD.

In: a SesMonitor object as a mapping (from the API server, a YAML file or a test). Out: a validated,
defaulted `SesMonitor` (or a `SpecError` naming the field), the status model the operator writes, the
CRD (`crd`) and docs/configuration.md (`docs`) generated from the same models. Imports nothing of ours
but the standard library and pydantic.
"""

from sesmonitor.api.crd import custom_resource_definition
from sesmonitor.api.quantities import format_duration, format_percent, parse_duration, parse_percent
from sesmonitor.api.resource import SesMonitor, SpecError, load, parse_spec
from sesmonitor.api.spec import API_VERSION, GROUP, KIND, PLURAL, VERSION, SesMonitorSpec
from sesmonitor.api.status import Condition, SesMonitorStatus

__all__ = [
    "API_VERSION",
    "GROUP",
    "KIND",
    "PLURAL",
    "VERSION",
    "Condition",
    "SesMonitor",
    "SesMonitorSpec",
    "SesMonitorStatus",
    "SpecError",
    "custom_resource_definition",
    "format_duration",
    "format_percent",
    "load",
    "parse_duration",
    "parse_percent",
    "parse_spec",
]
