"""`sesmonitor`: render, validate and inspect SesMonitors without a cluster.

    sesmonitor render -f monitor.yaml      every child object as a YAML stream (kubectl apply -f -, GitOps)
    sesmonitor validate -f monitor.yaml    "ok: <namespace>/<name>", or each problem as "field.path: message"
    sesmonitor rules -f monitor.yaml       the alert rules as a Prometheus rule file (promtool check rules)
    sesmonitor iam-policy -f monitor.yaml  the exporter's IAM policy (protection's writes only when it is on)
    sesmonitor resume -n NS NAME SET       resume a configuration set spec.protection paused
    sesmonitor crd                         the SesMonitor CustomResourceDefinition
    sesmonitor docs                        the SesMonitor field reference (docs/configuration.md)

Bad input exits 1 with a message naming the field; usage errors exit 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TextIO

import yaml

from sesmonitor.api import SesMonitor, SpecError, custom_resource_definition, load
from sesmonitor.api.docs import configuration_reference
from sesmonitor.render import RenderDefaults, render_all
from sesmonitor.render.iam import iam_policy
from sesmonitor.render.rules import rule_file

EXIT_OK: Final = 0
EXIT_INVALID: Final = 1
EXIT_USAGE: Final = 2
CRD_HEADER: Final = "# Generated from operator/sesmonitor/api by `make crd`; do not edit by hand.\n"
CRD_WIDTH: Final = 100  # the committed CRD's line width: `make crd` must reproduce it byte for byte
WIDE: Final = 1 << 16  # never fold long scalars (PromQL expressions, descriptions) in rendered output


class InputError(Exception):
    """The input cannot be read at all (missing file, not YAML): one message, exit 1."""


@dataclass(frozen=True)
class Streams:
    out: TextIO
    err: TextIO
    stdin: TextIO


@dataclass(frozen=True)
class Document:
    """One YAML document of the input: a valid SesMonitor or the problems that make it invalid."""

    index: int  # 1-based
    label: str  # "<namespace>/<name>" when known, else "document N"
    monitor: SesMonitor | None
    problems: tuple[str, ...]


def _read(path: str, stdin: TextIO) -> str:
    try:
        if path == "-":
            return stdin.read()
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _yaml_documents(text: str, path: str) -> list[tuple[int, Any]]:
    try:
        raw = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{path}: not valid YAML{where}: {problem}") from None
    docs = [(index, doc) for index, doc in enumerate(raw, start=1) if doc is not None]
    if not docs:
        raise InputError(f"{path}: no SesMonitor found (the file is empty)")
    return docs


def _shape_problems(doc: Any) -> list[str]:
    """What `load` assumes about an object's shape, checked first so it can report instead of crash."""
    if not isinstance(doc, dict):
        return [f"(top level): must be a mapping (a SesMonitor object), got {type(doc).__name__}"]
    problems = []
    for key in ("metadata", "spec"):
        if key in doc and doc[key] is not None and not isinstance(doc[key], dict):
            problems.append(f"{key}: must be a mapping, got {type(doc[key]).__name__}")
    metadata = doc.get("metadata")
    if isinstance(metadata, dict):
        for key in ("name", "namespace"):
            if key in metadata and metadata[key] is not None and not isinstance(metadata[key], str):
                problems.append(f"metadata.{key}: must be a string, got {type(metadata[key]).__name__}")
    return problems


def _label(doc: Any, index: int, namespace: str) -> str:
    metadata = doc.get("metadata") if isinstance(doc, dict) else None
    if isinstance(metadata, dict) and isinstance(metadata.get("name"), str) and metadata["name"]:
        ns = metadata.get("namespace")
        return f"{ns if isinstance(ns, str) and ns else namespace}/{metadata['name']}"
    return f"document {index}"


def parse_documents(path: str, namespace: str, stdin: TextIO) -> list[Document]:
    """Every SesMonitor of a (multi-document) YAML file, each validated on its own."""
    documents = []
    seen: set[str] = set()
    shown = "<stdin>" if path == "-" else path
    for index, raw in _yaml_documents(_read(path, stdin), shown):
        label = _label(raw, index, namespace)
        problems = _shape_problems(raw)
        monitor = None
        if not problems:
            try:
                monitor = load(raw, default_namespace=namespace)
            except SpecError as exc:
                problems = list(exc.problems)
            except (TypeError, ValueError, AttributeError) as exc:  # a shape `load` did not expect
                problems = [f"(top level): cannot read this object: {exc}"]
        if monitor is not None:
            if monitor.key in seen:
                problems, monitor = [f"metadata.name: {monitor.key} appears more than once"], None
            else:
                seen.add(monitor.key)
        documents.append(Document(index, label, monitor, tuple(problems)))
    return documents


def _valid_monitors(documents: list[Document], err: TextIO) -> list[SesMonitor] | None:
    """The monitors, or None after printing every problem (prefixed by the document when several)."""
    invalid = [doc for doc in documents if doc.monitor is None]
    if not invalid:
        return [doc.monitor for doc in documents if doc.monitor is not None]
    for doc in invalid:
        prefix = f"{doc.label}: " if len(documents) > 1 else ""
        for problem in doc.problems:
            print(f"{prefix}{problem}", file=err)
    return None


def _dump(objects: Sequence[Any], out: TextIO) -> None:
    out.write(yaml.safe_dump_all(objects, sort_keys=False, width=WIDE, explicit_start=True))


def cmd_render(args: argparse.Namespace, io: Streams) -> int:
    monitors = _valid_monitors(parse_documents(args.file, args.namespace, io.stdin), io.err)
    if monitors is None:
        return EXIT_INVALID
    defaults = RenderDefaults(exporter_image=args.exporter_image) if args.exporter_image else RenderDefaults()
    _dump([obj for monitor in monitors for obj in render_all(monitor, defaults)], io.out)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, io: Streams) -> int:
    documents = parse_documents(args.file, args.namespace, io.stdin)
    for doc in documents:
        if doc.monitor is not None:
            print(f"ok: {doc.monitor.key}", file=io.out)
            continue
        prefix = f"{doc.label}: " if len(documents) > 1 else ""
        for problem in doc.problems:
            print(f"{prefix}{problem}", file=io.out)
    return EXIT_OK if all(doc.monitor is not None for doc in documents) else EXIT_INVALID


def cmd_rules(args: argparse.Namespace, io: Streams) -> int:
    monitors = _valid_monitors(parse_documents(args.file, args.namespace, io.stdin), io.err)
    if monitors is None:
        return EXIT_INVALID
    io.out.write(yaml.safe_dump(rule_file(monitors), sort_keys=False, width=WIDE))
    return EXIT_OK


def cmd_iam_policy(args: argparse.Namespace, io: Streams) -> int:
    monitors = _valid_monitors(parse_documents(args.file, args.namespace, io.stdin), io.err)
    if monitors is None:
        return EXIT_INVALID
    if len(monitors) != 1:
        print("error: iam-policy needs exactly one SesMonitor", file=io.err)
        return EXIT_INVALID
    io.out.write(json.dumps(iam_policy(monitors[0]), indent=2) + "\n")
    return EXIT_OK


def cmd_resume(args: argparse.Namespace, io: Streams) -> int:
    """Annotate the SesMonitor; the operator passes the resume on to its exporter (docs/protection.md)."""
    from sesmonitor.cli.resume import annotate_resume

    message = annotate_resume(args.namespace, args.name, args.configuration_set, args.kubeconfig)
    print(message, file=io.out)
    return EXIT_OK


def cmd_crd(_args: argparse.Namespace, io: Streams) -> int:
    io.out.write(CRD_HEADER)
    io.out.write(yaml.safe_dump(custom_resource_definition(), sort_keys=False, width=CRD_WIDTH))
    return EXIT_OK


def cmd_docs(_args: argparse.Namespace, io: Streams) -> int:
    io.out.write(configuration_reference())
    return EXIT_OK


Command = Callable[[argparse.Namespace, Streams], int]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sesmonitor",
        description="Render, validate and inspect SesMonitor resources without a cluster.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_file(name: str, help_text: str, func: Command) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "-f",
            "--file",
            required=True,
            metavar="FILE",
            help="SesMonitor YAML (several documents allowed); - for stdin",
        )
        sub.add_argument(
            "-n",
            "--namespace",
            default="default",
            help="namespace for SesMonitors that do not name one (default: %(default)s)",
        )
        sub.set_defaults(func=func)
        return sub

    render = with_file("render", "print every object a SesMonitor needs, as a YAML stream", cmd_render)
    render.add_argument(
        "--exporter-image",
        metavar="IMAGE",
        help="exporter image for SesMonitors that do not set spec.exporter.image",
    )
    with_file("validate", "check SesMonitors and report each problem with its field path", cmd_validate)
    with_file("rules", "print the alert rules as a Prometheus rule file (for promtool)", cmd_rules)
    with_file("iam-policy", "print the exporter's IAM policy for a SesMonitor (JSON)", cmd_iam_policy)
    resume = commands.add_parser(
        "resume", help="resume a configuration set spec.protection paused (annotates the SesMonitor)"
    )
    resume.add_argument("-n", "--namespace", default="default", help="the SesMonitor's namespace")
    resume.add_argument("name", help="the SesMonitor's name")
    resume.add_argument("configuration_set", metavar="SET", help="the configuration set to resume")
    resume.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then ~/.kube/config)")
    resume.set_defaults(func=cmd_resume)
    crd = commands.add_parser("crd", help="print the SesMonitor CustomResourceDefinition")
    crd.set_defaults(func=cmd_crd)
    docs = commands.add_parser("docs", help="print the SesMonitor field reference as Markdown")
    docs.set_defaults(func=cmd_docs)
    return parser


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    io = Streams(out or sys.stdout, err or sys.stderr, stdin or sys.stdin)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed usage (or --help)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    func: Command = args.func
    try:
        return func(args, io)
    except InputError as exc:
        print(f"error: {exc}", file=io.err)
        return EXIT_INVALID
    except BrokenPipeError:  # `sesmonitor render ... | head`
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback: a bug here must still read as one line
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=io.err)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
