"""A local stand-in for the kubelet: run the container a Deployment describes as a process on this machine.

No kubelet runs pods on the test control plane, so the demo and the e2e tests read the exporter's
Deployment (and the ConfigMaps its pod mounts) from the API server and run the container's
command and args as a local process, changing only what a pod and a laptop must differ in:

- files of mounted ConfigMaps are written under a local directory, and every argument that points into
  a mount path points there instead (``--config /etc/sesmonitor/config.json`` -> ``.../config/config.json``);
- ``--listen HOST:PORT`` becomes ``127.0.0.1:<a free port>`` (each local "pod" needs its own port);
- the environment is the container's ``env`` (``value`` and ``secretKeyRef``), plus fake AWS
  credentials (the simulated account accepts any) and nothing from this machine's AWS setup;
- a bare command (``sesmonitor-exporter``) is looked up next to this Python first (the venv's bin/).

`LocalKubelet.sync()` compares each pod's Deployment template and ConfigMaps with what it runs and
restarts the process when they changed, as the Deployment's Recreate strategy would roll the pod.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.controlplane import Cluster, free_port
from support.processes import ManagedProcess, http_ok

__all__ = ["LocalKubelet", "LocalPod", "PodCommand", "pod_command"]

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}
# Never let the machine's own AWS setup leak into a local pod.
DROPPED_ENV_PREFIXES = ("AWS_", "KUBECONFIG", "SESMONITOR_")
LISTEN_FLAG = "--listen"


class PodError(RuntimeError):
    """The Deployment cannot be run locally (no container, a missing ConfigMap key, ...)."""


@dataclass(frozen=True)
class PodCommand:
    """What to run for a Deployment's container: argv, environment and the files to write first."""

    argv: list[str]
    env: dict[str, str]
    files: dict[Path, str] = field(default_factory=dict)
    listen: str = ""


def _container(deployment: Mapping[str, Any], name: str | None) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"].get("containers", [])
    for container in containers:
        if name is None or container.get("name") == name:
            return container
    raise PodError(f"Deployment {deployment['metadata']['name']} has no container {name or ''}".strip())


def _resolve_command(command: str, bin_dirs: Sequence[Path]) -> str:
    if "/" in command:
        return command
    for directory in bin_dirs:
        candidate = Path(directory) / command
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(command) or command


def pod_command(
    deployment: Mapping[str, Any],
    config_maps: Mapping[str, Mapping[str, Any]],
    *,
    mounts_dir: Path,
    listen: str,
    container_name: str | None = None,
    secret: Callable[[str, str], str | None] = lambda _name, _key: None,
    bin_dirs: Sequence[Path] = (Path(sys.executable).parent,),
    base_env: Mapping[str, str] | None = None,
) -> PodCommand:
    """The local process for `deployment`'s container (see the module docstring). Pure."""
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment, container_name)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    files: dict[Path, str] = {}
    mount_map: list[tuple[str, Path]] = []
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"], {})
        local = Path(mounts_dir) / mount["name"]
        mount_map.append((mount["mountPath"].rstrip("/"), local))
        source = volume.get("configMap")
        if source is None:
            continue
        data = dict(config_maps.get(source["name"], {}).get("data") or {})
        if not data and not source.get("optional"):
            raise PodError(f"ConfigMap {source['name']} (volume {mount['name']}) is missing or empty")
        items = source.get("items") or [{"key": k, "path": k} for k in data]
        for item in items:
            if item["key"] not in data:
                raise PodError(f"ConfigMap {source['name']} has no key {item['key']}")
            files[local / item["path"]] = data[item["key"]]
    # Longest mount path first, so /etc/a/b wins over /etc/a.
    mount_map.sort(key=lambda m: len(m[0]), reverse=True)

    def rewrite(arg: str) -> str:
        prefix, eq, value = arg.partition("=") if arg.startswith("-") else ("", "", arg)
        for mount_path, local in mount_map:
            if value == mount_path or value.startswith(mount_path + "/"):
                return f"{prefix}{eq}{local}{value[len(mount_path) :]}"
        return arg

    command = list(container.get("command") or [])
    args = list(container.get("args") or [])
    if not command:
        raise PodError("the container has no command (an image's entrypoint cannot be known locally)")
    out_args: list[str] = []
    skip_next = False
    for index, arg in enumerate(args):
        if skip_next:
            skip_next = False
            continue
        if arg == LISTEN_FLAG and index + 1 < len(args):
            out_args += [LISTEN_FLAG, listen]
            skip_next = True
        elif arg.startswith(LISTEN_FLAG + "="):
            out_args.append(f"{LISTEN_FLAG}={listen}")
        else:
            out_args.append(rewrite(arg))
    argv = [_resolve_command(command[0], bin_dirs), *map(rewrite, command[1:]), *out_args]

    env = {
        k: v
        for k, v in (os.environ if base_env is None else base_env).items()
        if not k.startswith(DROPPED_ENV_PREFIXES)
    }
    env.update(FAKE_AWS_ENV)
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif "secretKeyRef" in item.get("valueFrom", {}):
            ref = item["valueFrom"]["secretKeyRef"]
            value = secret(ref["name"], ref["key"])
            if value is None and not ref.get("optional"):
                raise PodError(f"Secret {ref['name']} has no key {ref['key']} (env {item['name']})")
            if value is not None:
                env[item["name"]] = value
    return PodCommand(argv=argv, env=env, files=files, listen=listen)


def template_hash(deployment: Mapping[str, Any], config_maps: Mapping[str, Mapping[str, Any]]) -> str:
    """Changes when the pod template or a mounted ConfigMap's data changes (a new pod is due)."""
    doc = {
        "template": deployment["spec"]["template"],
        "config_maps": {name: cm.get("data") for name, cm in sorted(config_maps.items())},
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


class LocalPod:
    """One Deployment run as a local process."""

    def __init__(self, kubelet: LocalKubelet, namespace: str, deployment: str, port: int) -> None:
        self.kubelet = kubelet
        self.namespace = namespace
        self.deployment = deployment
        self.port = port
        self.workdir = kubelet.workdir / namespace / deployment
        self.process: ManagedProcess | None = None
        self.hash: str | None = None
        self.command: PodCommand | None = None
        self.labels: dict[str, str] = {}
        self.starts = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "pod.log"

    def _read(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        cluster = self.kubelet.cluster
        deployment = cluster.kubectl_json("get", "deployment", self.deployment, "-n", self.namespace)
        config_maps = {}
        for volume in deployment["spec"]["template"]["spec"].get("volumes", []):
            if "configMap" in volume:
                name = volume["configMap"]["name"]
                proc = cluster.kubectl(
                    "get", "configmap", name, "-n", self.namespace, "-o", "json", check=False
                )
                if proc.returncode == 0:
                    config_maps[name] = json.loads(proc.stdout)
        return deployment, config_maps

    def _secret(self, name: str, key: str) -> str | None:
        proc = self.kubelet.cluster.kubectl(
            "get", "secret", name, "-n", self.namespace, "-o", "json", check=False
        )
        if proc.returncode != 0:
            return None
        data = json.loads(proc.stdout).get("data") or {}
        return base64.b64decode(data[key]).decode() if key in data else None

    def start(self, timeout: float = 60) -> LocalPod:
        deployment, config_maps = self._read()
        command = pod_command(
            deployment,
            config_maps,
            mounts_dir=self.workdir / "mounts",
            listen=self.address,
            secret=self._secret,
        )
        for path, content in command.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        self.command = command
        self.labels = dict(deployment["spec"]["template"]["metadata"].get("labels") or {})
        self.hash = template_hash(deployment, config_maps)
        self.starts += 1
        self.process = ManagedProcess(
            f"{self.namespace}/{self.deployment}", command.argv, self.log_path, env=command.env
        ).start()
        self.process.wait_ready(lambda: http_ok(f"{self.url}/healthz"), timeout, "serving")
        return self

    def changed(self) -> bool:
        deployment, config_maps = self._read()
        return template_hash(deployment, config_maps) != self.hash

    def running(self) -> bool:
        return self.process is not None and self.process.running()

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()


class LocalKubelet:
    """Runs Deployments of `cluster` as local processes under `workdir`."""

    def __init__(self, cluster: Cluster, workdir: Path) -> None:
        self.cluster = cluster
        self.workdir = Path(workdir)
        self.pods: dict[tuple[str, str], LocalPod] = {}

    def run(self, namespace: str, deployment: str, port: int = 0, timeout: float = 60) -> LocalPod:
        pod = LocalPod(self, namespace, deployment, port or free_port())
        self.pods[(namespace, deployment)] = pod
        return pod.start(timeout)

    def sync(self) -> list[str]:
        """Restart pods whose Deployment or ConfigMaps changed; returns what was done."""
        done = []
        for (namespace, name), pod in self.pods.items():
            try:
                changed = pod.changed()
            except Exception:  # the Deployment is gone or the API is busy: leave the pod as it is
                continue
            if changed:
                pod.restart()
                done.append(f"{namespace}/{name}: Deployment or ConfigMap changed, restarted")
        return done

    def stop(self) -> None:
        for pod in self.pods.values():
            pod.stop()
