"""botocore's data files as the exporter keeps them: smaller, and the same to every call it makes.

A client holds its service model for as long as it lives, and botocore's loader keeps every file it read
(endpoints.json too) in its cache. As botocore loads them they took 12.5 MiB of the exporter's 52 MiB:

- botocore parses each file into `OrderedDict`s, about twice a plain dict's size; a dict keeps its
  insertion order (Python 3.7+), which is all botocore asks of them;
- a service model's ``documentation`` strings (most of sesv2's 400 KiB) only ever feed docstrings and
  `help()`, which the exporter never builds;
- endpoints.json lists every service in every partition (700 KiB), and the exporter calls four. A
  service left out resolves as botocore resolves any service it does not list (the endpoint rule set,
  which every client uses, decides the URL), so this only trims what the legacy resolver would read.

Only the loading changes: botocore's own `Loader` finds and merges the files, so its search paths, the
``.json.gz`` files and the `AWS_DATA_PATH` extras are as before.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Collection
from typing import Any, Final

from botocore.loaders import JSONFileLoader, create_loader

# The endpoint prefixes (endpoints.json's service keys) of the services the exporter calls:
# CloudWatch, SESv2, SQS (spec.events), STS (spec.protection's account ID, role_arn's AssumeRole).
ENDPOINT_PREFIXES: Final = frozenset({"monitoring", "email", "sqs", "sts"})
# Keys whose string values botocore uses only for documentation.
DOCUMENTATION_KEYS: Final = ("documentation", "documentationUrl")

# botocore's file extensions, in its order: a plain file first, else its gzipped copy.
EXTENSIONS: Final = (".json", ".json.gz")


def read_bytes(path: str) -> bytes:
    if path.endswith(".gz"):
        with gzip.open(path, "rb") as fp:
            return fp.read()
    with open(path, "rb") as fp:
        return fp.read()


def without_documentation(node: dict[str, Any]) -> dict[str, Any]:
    """A JSON object without its documentation strings (a member *named* documentation, whose value
    is an object, stays)."""
    for key in DOCUMENTATION_KEYS:
        if isinstance(node.get(key), str):
            del node[key]
    return node


def trim_endpoints(data: dict[str, Any], prefixes: Collection[str]) -> dict[str, Any]:
    """endpoints.json with each partition's `services` limited to `prefixes`."""
    for partition in data.get("partitions", []):
        services = partition.get("services")
        if isinstance(services, dict):
            partition["services"] = {k: v for k, v in services.items() if k in prefixes}
    return data


class SlimFileLoader(JSONFileLoader):  # type: ignore[misc]  # botocore ships no type hints
    """botocore's JSONFileLoader, parsing into plain dicts without documentation strings."""

    def __init__(self, prefixes: Collection[str] = ENDPOINT_PREFIXES) -> None:
        self._prefixes = frozenset(prefixes)

    def load_file(self, file_path: str) -> Any:
        for extension in EXTENSIONS:
            path = file_path + extension
            if not os.path.isfile(path):
                continue
            data = json.loads(read_bytes(path).decode("utf-8"), object_hook=without_documentation)
            if os.path.basename(file_path) == "endpoints" and isinstance(data, dict):
                data = trim_endpoints(data, self._prefixes)
            return data
        return None


def slim_loader(data_path: str | None = None) -> Any:
    """botocore's Loader as its session makes it (`data_path`: AWS_DATA_PATH), reading its files
    through `SlimFileLoader`."""
    loader = create_loader(data_path)
    loader.file_loader = SlimFileLoader()
    return loader
