"""Command-line entry points: the only modules that may import every layer.

In: argv, the environment, files named on the command line. Out: `sesmonitor` (`main`: render,
validate, rules, iam-policy, crd, docs without a cluster; `resume` annotates a SesMonitor),
`sesmonitor-operator` (`operator_main`: settings, then `sesmonitor.operator.runner`) and
`sesmonitor-exporter` (`exporter_main`: the config file, then `sesmonitor.exporter.Exporter`), each
with its exit codes.
"""
