"""Reading deploy/: the compose file, the Kubernetes manifests, the env files
and the Dockerfiles, as the validators and cross-checks in tests/deploy see
them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
K8S = DEPLOY / "k8s"
IMAGES = DEPLOY / "images"
ENV_DIR = DEPLOY / "env"
#: The Kubernetes version the manifests are checked against (kubernetes-validate's newest).
K8S_VERSION = "1.37.0"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def compose() -> dict[str, Any]:
    return dict(load_yaml(COMPOSE))


def compose_schema() -> dict[str, Any]:
    """The compose-spec JSON schema check-jsonschema ships (vendor.compose-spec)."""
    files = resources.files("check_jsonschema.builtin_schemas.vendor")
    return dict(json.loads(files.joinpath("compose-spec.json").read_text(encoding="utf-8")))


def k8s_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                yield path, doc


def k8s_objects(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in k8s_documents() if d["kind"] == kind}


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (comments and blanks skipped), as compose reads them."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@dataclass(frozen=True)
class Container:
    """One container of a manifest: where, its env (secretKeyRef values as
    ``secret:<key>``), its probes and resources."""

    workload: str
    spec: dict[str, Any]
    env: dict[str, str]

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    def probe_paths(self) -> dict[str, tuple[str, int | str]]:
        paths = {}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            get = (self.spec.get(probe) or {}).get("httpGet")
            if get:
                paths[probe] = (get["path"], get["port"])
        return paths

    def port(self, name: int | str) -> int:
        if isinstance(name, int):
            return name
        return next(int(p["containerPort"]) for p in self.spec["ports"] if p["name"] == name)


def containers() -> Iterator[Container]:
    configmaps = k8s_objects("ConfigMap")
    for _, doc in k8s_documents():
        if doc["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        for spec in pod.get("containers", []):
            env: dict[str, str] = {}
            for source in spec.get("envFrom", []):
                env.update(configmaps[source["configMapRef"]["name"]]["data"])
            for item in spec.get("env", []):
                if "valueFrom" in item:
                    env[item["name"]] = "secret:" + item["valueFrom"]["secretKeyRef"]["key"]
                else:
                    env[item["name"]] = str(item["value"])
            yield Container(doc["metadata"]["name"], spec, env)


def container(workload: str) -> Container:
    return next(c for c in containers() if c.workload == workload)


def dockerfile_stages(path: Path) -> dict[str, list[str]]:
    """Instructions per stage (``FROM ... AS name``; the last stage also as "")."""
    text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            current = [line]
            match = re.search(r"\bAS\s+(\S+)", line, re.IGNORECASE)
            stages[match.group(1) if match else f"stage{len(stages)}"] = current
            stages[""] = current
        else:
            current.append(line)
    return stages


def instruction(stage: list[str], name: str) -> list[str]:
    return [line[len(name) + 1 :].strip() for line in stage if line.upper().startswith(name + " ")]


def names_read_by(paths: list[Path]) -> set[str]:
    """Upper-case quoted names in ``paths``: the environment variables they read."""
    found: set[str] = set()
    for path in paths:
        found |= set(
            re.findall(r"[\"']([A-Z][A-Z0-9_]{2,})[\"']", path.read_text(encoding="utf-8"))
        )
    return found


def expanded_in(path: Path) -> set[str]:
    """``${NAME}`` in a Rasa YAML file."""
    return set(re.findall(r"\$\{([A-Z0-9_]+)\}", path.read_text(encoding="utf-8")))


def memory_bytes(quantity: str) -> int:
    units = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "K": 1000, "M": 1000**2, "G": 1000**3}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]i?)?", str(quantity))
    assert match, quantity
    return int(float(match.group(1)) * units.get(match.group(2) or "", 1))
