"""`sesmonitor-exporter --config PATH [--control-dir DIR] [--listen HOST:PORT] [--log-level LEVEL]
[--log-format json|text]`.

Exit codes: 0 after SIGTERM/SIGINT, 2 for a bad command line or configuration file (reported before the
port is bound), 1 when the port cannot be bound.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from sesmonitor import contract
from sesmonitor.exporter import Exporter
from sesmonitor.listen import ALL_INTERFACES

PROG = "sesmonitor-exporter"
EXIT_CONFIG = 2
EXIT_LISTEN = 1
M_ARENA_MAX = -8  # glibc's mallopt() parameter: how many malloc arenas the threads share


def glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (Debian's python image); None elsewhere (musl, macOS)."""
    try:
        lib = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return lib if hasattr(lib, "malloc_trim") and hasattr(lib, "mallopt") else None


def limit_malloc_arenas(lib: ctypes.CDLL | None) -> None:
    """Two malloc arenas for every thread, as MALLOC_ARENA_MAX=2 would (glibc's default is up to 8 per
    core): each of the exporter's threads (refresh, HTTP, events, ...) allocates little, and with an
    arena of its own each one's freed memory stays resident apart from the others'. Before any thread."""
    if lib is not None:
        lib.mallopt(M_ARENA_MAX, 2)


def release_memory(lib: ctypes.CDLL | None) -> None:
    """Return to the kernel the C heap that the start-up freed (botocore's files are parsed, trimmed,
    and the parse's garbage dropped): glibc keeps freed memory mapped until asked (malloc_trim)."""
    if lib is not None:
        lib.malloc_trim(0)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `[IPv6]:PORT`, or `:PORT` / `[::]:PORT`: all interfaces, IPv6 and IPv4 alike."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"--listen: expected HOST:PORT, got {value!r}")
    host = host.strip("[]") or ALL_INTERFACES
    return host, int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Export AWS SES reputation metrics to Prometheus."
    )
    parser.add_argument(
        "--config",
        required=True,
        help=f"exporter configuration (JSON), e.g. {contract.CONFIG_MOUNT_PATH}/{contract.CONFIG_FILE_NAME}",
    )
    parser.add_argument(
        "--control-dir",
        help=f"directory of the operator's {contract.RESUME_FILE_NAME} (spec.protection's resume requests),"
        f" e.g. {contract.CONTROL_MOUNT_PATH}; without it no resume reaches this exporter",
    )
    parser.add_argument(
        "--listen",
        type=parse_listen,
        default=(ALL_INTERFACES, contract.EXPORTER_PORT),
        help=f"HOST:PORT to serve on (default [::]:{contract.EXPORTER_PORT}: IPv6 and IPv4, or IPv4 alone"
        " where the kernel has no IPv6)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--log-format", default="text", choices=["text", "json"])
    return parser


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def load_config(path: str) -> contract.ExporterConfig:
    """Raises ConfigError naming the file and the problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise contract.ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise contract.ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return contract.ExporterConfig.from_json(text)
    except contract.ConfigError as exc:
        raise contract.ConfigError(f"{path}: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the problem
        return EXIT_CONFIG if exc.code else 0
    configure_logging(args.log_level, args.log_format)
    lib = glibc()
    limit_malloc_arenas(lib)
    log = logging.getLogger(PROG)
    try:
        config = load_config(args.config)
    except contract.ConfigError as exc:
        print(f"{PROG}: bad configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        exporter = Exporter(config, listen=args.listen, control_dir=args.control_dir)
    except Exception as exc:  # botocore rejects e.g. a malformed region or endpoint URL
        print(f"{PROG}: bad configuration: {args.config}: {exc}", file=sys.stderr)
        return EXIT_CONFIG

    # botocore's models are a large, long-lived object graph: keep it out of the cyclic GC's full
    # passes, whose pauses otherwise show up as scrape-latency outliers.
    gc.collect()
    gc.freeze()
    release_memory(lib)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            exporter.start()
        except OSError as exc:
            print(f"{PROG}: cannot listen on {args.listen[0]}:{args.listen[1]}: {exc}", file=sys.stderr)
            return EXIT_LISTEN
        while not stop.wait(1.0):
            pass
        exporter.stop()
        log.info("stopped")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
