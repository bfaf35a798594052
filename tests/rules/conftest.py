"""The promtool fixture for every rules test module."""

from test_promtool import promtool  # noqa: F401
