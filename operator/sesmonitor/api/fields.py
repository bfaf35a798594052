"""The kinds of field the SesMonitor spec is made of, each stated once for both of its readers.

A kind (a name, a URL, a percent, a bounded duration, a map of labels, a list of configuration sets,
a nested section) says its pattern, lengths and bounds in one place; from that one row come the
pydantic constraints and validator that `sesmonitor validate` runs, and the OpenAPI bounds and CEL rule
the API server runs. The models in `spec` only name a kind, a description and a default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from sesmonitor.api.quantities import DURATION_PATTERN, PERCENT_PATTERN, parse_duration, parse_percent

REQUIRED: Final[Any] = ...  # pydantic's marker of a field without a default
CONFIGURATION_SET_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"
MAX_ENTRIES: Final = 32  # labels, annotations, selectors: what one object may add
MAX_CONFIGURATION_SETS: Final = 20


def percent_cel(self_expr: str) -> str:
    """A percent string as a CEL number ("5%" -> 5.0)."""
    return f"double({self_expr}.replace('%', ''))"


def cel_rule(rule: str, message: str, field_path: str | None = None) -> JsonDict:
    """One cross-field rule for the API server; `field_path` names the field it reports on."""
    found: JsonDict = {"rule": rule, "message": message}
    if field_path:
        found["fieldPath"] = field_path
    return found


def cel_rules(*rules: JsonDict) -> ConfigDict:
    """A model's configuration carrying its cross-field rules (the CRD's x-kubernetes-validations)."""
    return ConfigDict(json_schema_extra={"x-kubernetes-validations": list(rules)})


def _checked(check: Callable[[str], object]) -> AfterValidator:
    def validate(value: str) -> str:
        check(value)
        return value

    return AfterValidator(validate)


def _field(validator: AfterValidator | None, default: Any, **kwargs: Any) -> Any:
    info = Field(default, **{k: v for k, v in kwargs.items() if v is not None})
    if validator is None:
        return info
    # What pydantic builds of `Annotated[str, validator] = Field(...)`, with the validator in one place:
    # the constraints first, then the check.
    checked: Any = Annotated[str, validator]
    return FieldInfo.from_annotated_attribute(checked, info)


@dataclass(frozen=True)
class Text:
    """A string checked by a pattern and a length alone (a region, a name, a URL, a key)."""

    pattern: str | None = None
    max_length: int | None = None
    min_length: int | None = None

    def __call__(self, description: str, default: Any = REQUIRED, *, alias: str | None = None) -> Any:
        return _field(
            None,
            default,
            alias=alias,
            description=description,
            pattern=self.pattern,
            min_length=self.min_length,
            max_length=self.max_length,
        )


@dataclass(frozen=True)
class OneOf:
    """A string that must be one of `choices`: an enum in the CRD, and in Python an error that says
    the value and what it should be. Use it as `Annotated[str, OneOf(...)]`."""

    choices: tuple[str, ...]
    what: str  # "an alert sesmonitor renders": the error's words for a good value

    def check(self, value: str) -> str:
        if value not in self.choices:
            raise ValueError(f"{value!r} is not {self.what} (one of: {', '.join(self.choices)})")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(schema)
        found["enum"] = list(self.choices)
        return found


def choice_set(description: str, choices: tuple[str, ...], *, alias: str | None = None) -> Any:
    """A list without repeats of `OneOf(choices)` items, empty by default."""
    return Field(
        default_factory=list,
        alias=alias,
        description=description,
        max_length=len(choices),
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )


PERCENT_RULE: Final = {
    "rule": f"{percent_cel('self')} > 0.0 && {percent_cel('self')} <= 100.0",
    "message": "must be greater than 0% and at most 100%",
}


def percent(description: str, default: str | None, *, alias: str | None = None) -> Any:
    """A percent string such as "5%", above 0% and at most 100%; `default=None` makes it optional."""
    if default is None:
        # pydantic leaves a pattern of an optional field out of the schema: the CRD gets it by hand,
        # Python by parse_percent (which names the format).
        return _field(
            _checked(lambda v: v is None or parse_percent(v)),
            None,
            alias=alias,
            description=description,
            max_length=10,
            json_schema_extra={"pattern": PERCENT_PATTERN, "x-kubernetes-validations": [PERCENT_RULE]},
        )
    return _field(
        _checked(parse_percent),
        default,
        alias=alias,
        description=description,
        pattern=PERCENT_PATTERN,
        max_length=10,
        json_schema_extra={"x-kubernetes-validations": [PERCENT_RULE]},
    )


@dataclass(frozen=True)
class DurationRange:
    """A Prometheus duration between two bounds, written as durations ("60s", "1h")."""

    low: str
    high: str
    min_length: int | None = 2

    def check(self, value: str) -> None:
        low, high = parse_duration(self.low), parse_duration(self.high)
        if not low <= parse_duration(value) <= high:
            raise ValueError(f"{value!r} must be between {low}s and {high}s")

    def __call__(self, description: str, default: str, *, alias: str | None = None) -> Any:
        rule = {
            "rule": f"duration(self) >= duration('{self.low}') && duration(self) <= duration('{self.high}')",
            "message": f"must be between {self.low} and {self.high}",
        }
        return _field(
            _checked(self.check),
            default,
            alias=alias,
            description=description,
            pattern=DURATION_PATTERN,
            min_length=self.min_length,
            max_length=16,
            json_schema_extra={"x-kubernetes-validations": [rule]},
        )


def string_map(description: str, *, alias: str | None = None) -> Any:
    """Labels, annotations or a node selector: a map of strings, empty by default."""
    return Field(default_factory=dict, alias=alias, description=description, max_length=MAX_ENTRIES)


ConfigurationSetName = Annotated[str, Field(pattern=CONFIGURATION_SET_PATTERN, max_length=64)]


def configuration_set_list(description: str, *, alias: str = "configurationSets") -> Any:
    """A set (no repeats) of SES configuration set names, empty by default."""
    return Field(
        default_factory=list,
        alias=alias,
        description=description,
        max_length=MAX_CONFIGURATION_SETS,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        items = {key: _compact(item) for key, item in value.items() if item is not None}
        return {key: item for key, item in items.items() if item not in ({}, [])}
    return value


def section(model: type[BaseModel], description: str, *, alias: str | None = None) -> Any:
    """A nested object whose fields all have defaults, so it may be left out.

    Its CRD default has the nested defaults filled in: the API server checks a default against the
    object's CEL rules as written, without first applying the defaults of the fields inside it, so `{}`
    would fail rules such as warning < critical.
    """
    return Field(
        default_factory=model,
        alias=alias,
        description=description,
        json_schema_extra={"default": _compact(model().model_dump(by_alias=True))},
    )
