"""deploy/k8s cannot be applied here (no cluster): check that every module is wired as the code expects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mimamori.kit.runtime.registry import discover

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
MODULES = discover()


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


@pytest.fixture(scope="module")
def base() -> dict[tuple[str, str], dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    objects = {}
    for resource in kustomization["resources"]:
        for document in _documents(K8S / "base" / resource):
            objects[(document["kind"], document["metadata"]["name"])] = document
    return objects


def _port(name: str) -> int:
    return 8000 if name == "gateway" else MODULES[name].port


def test_every_module_has_a_deployment_and_a_service_on_its_port(base) -> None:
    for name in MODULES:
        container = base[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        assert env["PORT"]["value"] == str(_port(name))
        assert container["ports"][0]["containerPort"] == _port(name)
        assert f"--target {name}" in " ".join(container["args"])
        assert container["image"] == f"mimamori/{name}"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert env["MIMAMORI_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == f"mimamori-{name}-database"
        service = base[("Service", name)]
        assert service["spec"]["ports"][0]["port"] == _port(name)
        assert service["spec"]["selector"] == base[("Deployment", name)]["spec"]["selector"]["matchLabels"]


def test_ingest_keeps_delivered_files_on_a_persistent_volume_with_one_writer(base) -> None:
    deployment = base[("Deployment", "ingest")]["spec"]
    data = next(v for v in deployment["template"]["spec"]["volumes"] if v["name"] == "data")
    claim = base[("PersistentVolumeClaim", data["persistentVolumeClaim"]["claimName"])]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    mount = next(m for m in deployment["template"]["spec"]["containers"][0]["volumeMounts"] if m["name"] == "data")
    assert mount["mountPath"] == "/data"
    # The volume is mounted by one pod at a time: one replica, replaced (not rolled) on an update.
    assert deployment["replicas"] == 1
    assert deployment["strategy"]["type"] == "Recreate"


def test_gateway_upstreams_name_every_service_by_its_kubernetes_service(base) -> None:
    import json

    upstreams = json.loads(base[("ConfigMap", "mimamori-gateway")]["data"]["upstreams"])
    assert set(upstreams) == {n for n in MODULES if n != "gateway"}
    for name, url in upstreams.items():
        assert url == f"http://{name}:{_port(name)}"


def test_only_the_gateway_mounts_the_private_signing_key(base) -> None:
    for name in MODULES:
        volumes = base[("Deployment", name)]["spec"]["template"]["spec"]["volumes"]
        keys = next(v for v in volumes if v["name"] == "keys")["secret"]["items"]
        assert [k["key"] for k in keys] == (["context.key"] if name == "gateway" else ["context.pub"])


def test_common_settings_match_docker_compose(base) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    shared = compose["x-service-env"]
    assert base[("ConfigMap", "mimamori-common")]["data"] == {k: str(v) for k, v in shared.items()}


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_overlays_build_on_the_base_and_patch_only_what_exists(base, overlay: str) -> None:
    kustomization = yaml.safe_load((K8S / "overlays" / overlay / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["../../base"]
    for patch in kustomization.get("patches", []):
        target = patch["target"]
        assert (target["kind"], target["name"]) in base
    assert {i["name"] for i in kustomization["images"]} == {f"mimamori/{n}" for n in MODULES}
