"""Pure functions from one SesMonitor to the objects that realise it. No I/O, no clock, no randomness.

Public interface (used by the operator and the CLI):
- `RenderDefaults`: operator-level defaults a SesMonitor may leave out (exporter image, resources).
- `render_all(monitor, defaults) -> list[dict]`: every child object, in apply order:
  ConfigMap (exporter config), Deployment, Service, ServiceMonitor, PrometheusRule.
- `child_names(monitor_name) -> ChildNames`: the names of those objects.
- `selector_labels(monitor)`: the labels that select the exporter's pods.
"""

from sesmonitor.render.defaults import RenderDefaults
from sesmonitor.render.labels import selector_labels
from sesmonitor.render.manifests import render_all
from sesmonitor.render.names import ChildNames, child_names

__all__ = ["ChildNames", "RenderDefaults", "child_names", "render_all", "selector_labels"]
