"""The Kubernetes manifests (compose/kubernetes): their wiring checked offline, their pods run on Docker."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.images.labels import IMAGE_PREFIX
from tests.stack.cli import REPO, harness
from tests.support.docker import require_docker

KUBE_DIR = REPO / "compose" / "kubernetes"
SCENARIOS = REPO / "harness" / "load" / "scenarios" / "contravento.py"
# Every manifest and the (apiVersion, kind) of each document in it, in order.
EXPECTED_KINDS = {
    "configmap.yaml": [("v1", "ConfigMap")],
    "locust-master.yaml": [("apps/v1", "Deployment"), ("v1", "Service")],
    "locust-worker.yaml": [("apps/v1", "Deployment")],
    "kustomization.yaml": [("kustomize.config.k8s.io/v1beta1", "Kustomization")],
}
LOCUST_IMAGE = f"{IMAGE_PREFIX}/locust"  # the name `harness images` builds and tags :latest
BACKEND_IMAGE = f"{IMAGE_PREFIX}/backend:latest"
LOCUST_UID = 10002  # the load image's user (Dockerfile.locust)
QUANTITY_SUFFIXES = {"m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}
QUANTITY_SUFFIXES |= {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30}


# --- reading the manifests -------------------------------------------------------------


@dataclass(frozen=True)
class Manifests:
    """The parsed files of compose/kubernetes, each resource by its role."""

    documents: dict[str, list[dict[str, Any]]]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [
            doc
            for docs in self.documents.values()
            for doc in docs
            if doc["kind"] == kind and name in (None, doc.get("metadata", {}).get("name"))
        ]
        assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
        return found[0]

    @property
    def kustomization(self) -> dict[str, Any]:
        return self.one("Kustomization")

    @property
    def configmap(self) -> dict[str, Any]:
        return self.one("ConfigMap")

    @property
    def service(self) -> dict[str, Any]:
        return self.one("Service")

    @property
    def master(self) -> dict[str, Any]:
        return self.one("Deployment", "locust-master")

    @property
    def worker(self) -> dict[str, Any]:
        return self.one("Deployment", "locust-worker")

    @property
    def deployments(self) -> list[dict[str, Any]]:
        return [self.master, self.worker]


def load_manifests(folder: Path = KUBE_DIR) -> Manifests:
    documents = {}
    for path in sorted(folder.glob("*.y*ml")):
        docs = [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc is not None]
        documents[path.name] = docs
    return Manifests(documents)


@pytest.fixture(scope="module")
def manifests() -> Manifests:
    return load_manifests()


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def locust_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = pod_spec(deployment)["containers"]
    assert [c["name"] for c in containers] == ["locust"], "one container per pod: locust"
    return containers[0]


def resolve_env(container: dict[str, Any], configmap: dict[str, Any]) -> dict[str, str]:
    """The container's environment as the kubelet builds it: envFrom first, then env."""
    data: dict[str, str] = configmap["data"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert source["configMapRef"]["name"] == configmap["metadata"]["name"]
        env.update({f"{source.get('prefix', '')}{k}": v for k, v in data.items()})
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        ref = item["valueFrom"]["configMapKeyRef"]
        assert ref["name"] == configmap["metadata"]["name"], item
        env[item["name"]] = data[ref["key"]]
    return env


def option(args: list[str], flag: str) -> str:
    """The value after `flag` in a container's args (`--flag value` or `--flag=value`)."""
    for i, arg in enumerate(args):
        if arg == flag:
            return args[i + 1]
        if arg.startswith(f"{flag}="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{flag} is not in {args}")


def container_port(container: dict[str, Any], port: int | str) -> int:
    """A Service targetPort or probe port (a number or a port name) as the container's number."""
    if isinstance(port, int):
        return port
    numbers = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    assert len(numbers) == 1, f"no container port named {port!r}"
    return int(numbers[0])


def quantity(value: str | int | float) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(m|k|M|G|Ki|Mi|Gi)?", str(value))
    assert match, f"not a Kubernetes quantity: {value!r}"
    return float(match[1]) * QUANTITY_SUFFIXES[match[2] or ""]


def resolve_image(image: str, kustomization: dict[str, Any]) -> str:
    """What kustomize's `images:` transformer makes of a container's image."""
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:  # a tag, not a registry's port
        name = name.rsplit(":", 1)[0]
    for entry in kustomization.get("images", []):
        if entry["name"] == name:
            return f"{entry.get('newName', name)}:{entry['newTag']}"
    raise AssertionError(f"{image} is not set in kustomization.yaml `images:`")


# --- static checks: no Docker, no cluster ----------------------------------------------


def test_every_file_parses_to_the_expected_kinds(manifests: Manifests) -> None:
    found = {
        name: [(doc["apiVersion"], doc["kind"]) for doc in docs]
        for name, docs in manifests.documents.items()
    }
    assert found == EXPECTED_KINDS


def test_kustomization_lists_exactly_the_manifests(manifests: Manifests) -> None:
    resources = manifests.kustomization["resources"]
    assert all((KUBE_DIR / name).is_file() for name in resources), resources
    assert sorted(resources) == sorted(set(EXPECTED_KINDS) - {"kustomization.yaml"})


def test_deployment_selectors_match_their_pod_labels(manifests: Manifests) -> None:
    for deployment, component in [(manifests.master, "master"), (manifests.worker, "worker")]:
        selector = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), deployment["metadata"]["name"]
        assert selector["app.kubernetes.io/component"] == component
        assert labels["app.kubernetes.io/name"] == "contravento-locust"
        assert deployment["metadata"]["labels"]["app.kubernetes.io/component"] == component
    master_labels = manifests.master["spec"]["template"]["metadata"]["labels"]
    worker_selector = manifests.worker["spec"]["selector"]["matchLabels"]
    assert not worker_selector.items() <= master_labels.items()  # two disjoint pod sets


def test_master_service_selects_the_master_and_exposes_its_ports(manifests: Manifests) -> None:
    service, master = manifests.service, locust_container(manifests.master)
    selector = service["spec"]["selector"]
    assert selector.items() <= manifests.master["spec"]["template"]["metadata"]["labels"].items()
    assert (
        not selector.items() <= manifests.worker["spec"]["template"]["metadata"]["labels"].items()
    )
    ports = {p["port"]: container_port(master, p["targetPort"]) for p in service["spec"]["ports"]}
    assert ports == {5557: 5557, 8089: 8089}
    assert int(option(master["args"], "--master-bind-port")) == 5557
    assert int(option(master["args"], "--web-port")) == 8089


def test_workers_connect_to_the_master_service(manifests: Manifests) -> None:
    args = locust_container(manifests.worker)["args"]
    assert "--worker" in args
    assert option(args, "--master-host") == manifests.service["metadata"]["name"]
    service_ports = {p["port"] for p in manifests.service["spec"]["ports"]}
    assert int(option(args, "--master-port")) in service_ports
    master_args = locust_container(manifests.master)["args"]
    assert option(args, "--master-port") == option(master_args, "--master-bind-port")


def test_master_waits_for_every_worker_replica(manifests: Manifests) -> None:
    env = resolve_env(locust_container(manifests.master), manifests.configmap)
    assert manifests.master["spec"]["replicas"] == 1
    assert int(env["LOCUST_EXPECT_WORKERS"]) == manifests.worker["spec"]["replicas"] >= 2


def test_master_runs_a_bounded_automatic_run_from_the_configmap(manifests: Manifests) -> None:
    master = locust_container(manifests.master)
    env = resolve_env(master, manifests.configmap)
    assert "--autostart" in master["args"] and "--headless" not in master["args"]
    keys = {item["name"]: item["valueFrom"]["configMapKeyRef"]["key"] for item in master["env"]}
    assert keys["LOCUST_HOST"] == "TARGET_URL"
    for name in ("LOCUST_USERS", "LOCUST_SPAWN_RATE", "LOCUST_RUN_TIME"):
        assert env[name], name
    # A forgotten TARGET_URL must reach nothing: .invalid never resolves (RFC 2606).
    host = re.sub(r"^https?://", "", manifests.configmap["data"]["TARGET_URL"]).split(":")[0]
    assert host.endswith(".invalid")
    assert "staged_shape" not in " ".join(master["args"])  # users/run time must apply


def test_every_configmap_reference_exists_and_every_key_is_used(manifests: Manifests) -> None:
    data = manifests.configmap["data"]
    assert all(isinstance(value, str) for value in data.values()), "ConfigMap values are strings"
    used: set[str] = set()
    for deployment in manifests.deployments:
        container = locust_container(deployment)
        for source in container.get("envFrom", []):
            assert source["configMapRef"]["name"] == manifests.configmap["metadata"]["name"]
            used |= set(data)
        for item in container.get("env", []):
            ref = item.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                assert ref["name"] == manifests.configmap["metadata"]["name"], item
                assert ref["key"] in data, item
                assert not ref.get("optional"), item  # a missing key must stop the pod
                used.add(ref["key"])
    assert used == set(data), f"unused ConfigMap keys: {set(data) - used}"


def test_every_variable_is_one_locust_or_the_scenarios_read(manifests: Manifests) -> None:
    scenarios = SCENARIOS.read_text("utf-8")
    for deployment in manifests.deployments:
        env = resolve_env(locust_container(deployment), manifests.configmap)
        assert env and all(name.startswith(("LOCUST_", "CV_")) for name in env), env
        for name in env:
            if name.startswith("CV_"):
                assert f'"{name}"' in scenarios, f"{name} is not read by the scenarios"


@pytest.fixture(scope="module")
def parsed_options(manifests: Manifests, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Each Deployment's args + env parsed by the installed Locust (the image's pinned version).

    In a child process: importing locust monkey-patches the standard library.
    """
    script = (
        "import json, sys\n"
        "from locust.argument_parser import get_parser\n"
        "parser = get_parser(default_config_files=[])\n"
        "names = {a.env_var for a in parser._actions if getattr(a, 'env_var', None)}\n"
        "options = vars(parser.parse_args(json.loads(sys.argv[1])))\n"
        "plain = {k: v for k, v in options.items() if isinstance(v, (str, int, float, list))}\n"
        "print(json.dumps({'env_vars': sorted(names), 'options': plain}))\n"
    )
    parsed = {}
    for deployment in manifests.deployments:
        container = locust_container(deployment)
        env = resolve_env(container, manifests.configmap)
        done = subprocess.run(
            [sys.executable, "-c", script, json.dumps(container["args"])],
            env={"PATH": "/usr/bin:/bin", **env},
            cwd=tmp_path_factory.mktemp("locust"),  # no locust.conf or pyproject.toml here
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        parsed[deployment["metadata"]["name"]] = {**json.loads(done.stdout), "env": env}
    return parsed


def test_locust_reads_every_option_as_intended(manifests: Manifests, parsed_options: Any) -> None:
    master, worker = parsed_options["locust-master"], parsed_options["locust-worker"]
    for side in (master, worker):
        known = {*side["env_vars"], "LOCUST_USER_CLASSES"}  # the classes are read separately
        assert {name for name in side["env"] if name.startswith("LOCUST_")} <= known
        assert side["options"]["locustfile"] == "/locust/scenarios/contravento.py"
        assert side["options"]["user_classes"] == ["ContraVentoUser", "FeedBrowsingUser"]
    data, m = manifests.configmap["data"], master["options"]
    assert m["master"] and m["autostart"] and not m["headless"] and not m["worker"]
    assert m["host"] == data["TARGET_URL"]
    assert m["num_users"] == int(data["USERS"]) and m["spawn_rate"] == float(data["SPAWN_RATE"])
    assert m["run_time"] > 0 and m["expect_workers"] == manifests.worker["spec"]["replicas"]
    assert (m["master_bind_port"], m["web_port"]) == (5557, 8089)
    w = worker["options"]
    assert w["worker"] and not w["master"]
    assert (w["master_host"], w["master_port"]) == (manifests.service["metadata"]["name"], 5557)


def test_pods_run_unprivileged_with_a_read_only_root(manifests: Manifests) -> None:
    for deployment in manifests.deployments:
        pod, container = pod_spec(deployment), locust_container(deployment)
        context = {**pod["securityContext"], **container["securityContext"]}
        assert context["runAsNonRoot"] is True
        assert context["runAsUser"] == context["runAsGroup"] == LOCUST_UID
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert not context.get("privileged")
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert pod["enableServiceLinks"] is False  # no injected LOCUST_MASTER_* variables


def test_every_container_has_bounded_resources(manifests: Manifests) -> None:
    for deployment in manifests.deployments:
        resources = locust_container(deployment)["resources"]
        for kind in ("cpu", "memory"):
            request, limit = resources["requests"][kind], resources["limits"][kind]
            assert 0 < quantity(request) <= quantity(limit), (deployment["metadata"]["name"], kind)
    worker = locust_container(manifests.worker)["resources"]
    assert quantity(worker["requests"]["cpu"]) == quantity(worker["limits"]["cpu"]) == 1.0


def test_nothing_is_exposed_outside_the_cluster(manifests: Manifests) -> None:
    assert manifests.service["spec"].get("type", "ClusterIP") == "ClusterIP"
    assert "externalIPs" not in manifests.service["spec"]
    for deployment in manifests.deployments:
        pod = pod_spec(deployment)
        assert not any(pod.get(key) for key in ("hostNetwork", "hostPID", "hostIPC"))
        for container in pod["containers"]:
            assert all("hostPort" not in port for port in container.get("ports", []))
    kinds = {doc["kind"] for docs in manifests.documents.values() for doc in docs}
    assert not kinds & {"Ingress", "Gateway", "HTTPRoute"}
    text = "".join(path.read_text("utf-8") for path in KUBE_DIR.glob("*.yaml"))
    assert not re.search(r"^\s*type:\s*(NodePort|LoadBalancer)", text, re.MULTILINE)


def test_the_image_is_named_once_in_the_kustomization(manifests: Manifests) -> None:
    images = manifests.kustomization["images"]
    assert [entry["name"] for entry in images] == [LOCUST_IMAGE]
    assert images[0]["newName"] and images[0]["newTag"]
    for deployment in manifests.deployments:
        container = locust_container(deployment)
        assert container["image"] == LOCUST_IMAGE  # no tag here: kustomization.yaml sets it
        assert resolve_image(container["image"], manifests.kustomization) == (
            f"{images[0]['newName']}:{images[0]['newTag']}"
        )


def test_kustomize_builds_the_same_resources_with_the_image_set(manifests: Manifests) -> None:
    """What `kubectl apply -k` would send; only where kubectl (with kustomize) is installed."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed; the kustomize build is checked where it is")
    done = subprocess.run(
        [kubectl, "kustomize", str(KUBE_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    built = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(done.stdout)}
    expected = {}
    for name, docs in manifests.documents.items():
        if name == "kustomization.yaml":
            continue
        for doc in docs:
            doc = deepcopy(doc)
            if doc["kind"] == "Deployment":
                for container in pod_spec(doc)["containers"]:
                    container["image"] = resolve_image(container["image"], manifests.kustomization)
            expected[(doc["kind"], doc["metadata"]["name"])] = doc
    assert built == expected


# --- the pods' container specs, run on Docker ------------------------------------------

TEST_LABEL = "org.contravento.harness.test"
RUN_TIME_S = 15
RUN_OVERRIDES = {  # small and short; everything else comes from the manifests as written
    "USERS": "4",
    "RUN_TIME": f"{RUN_TIME_S}s",
    "TARGET_URL": "http://backend:8000",  # the test's own backend container, nothing else
}
WORKERS = 2
ENDPOINTS = {"/auth/register", "/auth/login", "/trips/public"}  # every mixed run calls these


@dataclass
class Sandbox:
    """Containers on a private, internal Docker network, all carrying one unique label."""

    client: Any
    run_id: str = field(default_factory=lambda: f"kubernetes-{uuid.uuid4().hex[:10]}")
    network: Any = None

    @property
    def labels(self) -> dict[str, str]:
        return {TEST_LABEL: self.run_id}

    def start(self, role: str, image: str, alias: str | None = None, **options: Any) -> Any:
        if self.network is None:  # internal: no route out, so the load reaches only `backend`
            self.network = self.client.networks.create(
                f"cv-{self.run_id}", internal=True, labels=self.labels
            )
        endpoint = self.client.api.create_endpoint_config(aliases=[alias] if alias else None)
        return self.client.containers.run(
            image,
            name=f"cv-{self.run_id}-{role}",
            detach=True,
            labels=self.labels,
            network=self.network.name,
            networking_config={self.network.name: endpoint},
            **options,
        )

    def owned(self) -> tuple[list[Any], list[Any]]:
        """Every container and network carrying this sandbox's label, found by the label."""
        selector = {"label": f"{TEST_LABEL}={self.run_id}"}
        containers = self.client.containers.list(all=True, filters=selector)
        return containers, self.client.networks.list(filters=selector)

    def remove_all(self) -> list[str]:
        """Remove what this sandbox started; the names of anything still there afterwards."""
        containers, networks = self.owned()
        for container in containers:
            container.remove(force=True)
        for network in networks:
            network.remove()
        containers, networks = self.owned()
        return [c.name for c in containers] + [n.name for n in networks]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    require_docker()
    import docker  # only the Docker test needs the SDK

    box = Sandbox(docker.from_env(timeout=120))
    try:
        yield box
    finally:
        left = box.remove_all()
        box.client.close()
        assert left == [], f"containers or networks left behind: {left}"


@pytest.fixture
def images(manifests: Manifests, tmp_path: Path) -> None:
    """The locust and backend images; `harness images` builds and tags them if missing."""
    require_docker()
    locust = resolve_image(LOCUST_IMAGE, manifests.kustomization)

    def missing() -> bool:
        inspect = ["docker", "image", "inspect", locust, BACKEND_IMAGE]
        return subprocess.run(inspect, capture_output=True, timeout=60, check=False).returncode != 0

    if missing():
        done = harness(tmp_path / "home", "images", timeout=1800)
        assert done.returncode == 0 and not missing(), done.stderr[-3000:]


def pod_as_container(
    deployment: dict[str, Any], manifests: Manifests, data: dict[str, str]
) -> dict[str, Any]:
    """docker run options for a Deployment's pod, as a kubelet would run its container."""
    container = locust_container(deployment)
    configmap = {**manifests.configmap, "data": data}
    context = {**pod_spec(deployment)["securityContext"], **container["securityContext"]}
    limits = container["resources"]["limits"]
    options: dict[str, Any] = {
        "image": resolve_image(container["image"], manifests.kustomization),
        "command": container.get("args"),
        "environment": resolve_env(container, configmap),
        "user": f"{context['runAsUser']}:{context['runAsGroup']}",
        "read_only": context["readOnlyRootFilesystem"],
        "cap_drop": context["capabilities"]["drop"],
        "cap_add": context["capabilities"].get("add"),
        "nano_cpus": int(quantity(limits["cpu"]) * 1e9),
        "mem_limit": int(quantity(limits["memory"])),
    }
    if "command" in container:  # Kubernetes `command` replaces the image's ENTRYPOINT
        options["entrypoint"] = container["command"]
    if context["allowPrivilegeEscalation"] is False:
        options["security_opt"] = ["no-new-privileges"]
    return options


def logs(container: Any) -> str:
    text: str = container.logs().decode("utf-8", "replace")
    return text


def wait_for(what: str, check: Callable[[], bool], deadline_s: float, *watched: Any) -> None:
    """Poll until `check()` holds; on timeout, fail with the tail of each watched container's log."""
    deadline = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {c.name}:\n{logs(c)[-2500:]}" for c in watched)
            raise AssertionError(f"{what}: not within {deadline_s:.0f}s\n{tails}")
        for container in watched:
            container.reload()
            if container.status == "exited":
                raise AssertionError(
                    f"{container.name} exited while waiting for {what}:\n{logs(container)[-2500:]}"
                )
        time.sleep(0.5)


def http_get(container: Any, url: str) -> tuple[int, str]:
    """GET `url` from inside `container` (as a probe or a port-forward would reach it)."""
    code = (
        "import sys, urllib.request\n"
        "with urllib.request.urlopen(sys.argv[1], timeout=5) as r:\n"
        "    sys.stdout.write(r.read().decode())\n"
    )
    exit_code, output = container.exec_run(["python", "-c", code, url])
    return int(exit_code), output.decode("utf-8", "replace")


def probe(container: Any, spec: dict[str, Any]) -> Callable[[], bool]:
    get = spec["readinessProbe"]["httpGet"]
    url = f"http://127.0.0.1:{container_port(spec, get['port'])}{get['path']}"
    return lambda: http_get(container, url)[0] == 0


def final_stats(master_log: str) -> dict[str, tuple[int, int]]:
    """Requests and failures per name from the last stats table the master printed."""
    # After shutdown: the request table, then the percentiles table (same header start).
    final = master_log.rsplit("Shutting down (exit code", 1)[-1]
    table = final.split("Type     Name")[1]
    rows = {}
    for line in table.splitlines():
        match = re.match(r"^\s*(?:[A-Z]+\s+)?(\S+)\s+(\d+)\s+(\d+)\(", line)
        if match:
            rows[match[1]] = (int(match[2]), int(match[3]))
    return rows


@pytest.mark.docker
@pytest.mark.slow
def test_the_pods_run_a_distributed_load_as_written(
    manifests: Manifests, images: None, sandbox: Sandbox
) -> None:
    require_docker()
    data = {**manifests.configmap["data"], **RUN_OVERRIDES, "EXPECT_WORKERS": str(WORKERS)}
    backend = sandbox.start(
        "backend",
        BACKEND_IMAGE,
        alias="backend",
        environment={
            "DATABASE_URL": "sqlite+aiosqlite:////tmp/cv.db",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "APP_ENV": "testing",
            "BCRYPT_ROUNDS": "4",
        },
    )
    wait_for(
        "backend /health",
        lambda: http_get(backend, "http://127.0.0.1:8000/health")[0] == 0,
        60,
        backend,
    )

    service = manifests.service["metadata"]["name"]
    master = sandbox.start(
        "master", alias=service, **pod_as_container(manifests.master, manifests, data)
    )
    wait_for(
        "master readiness probe", probe(master, locust_container(manifests.master)), 60, master
    )
    workers = [
        sandbox.start(f"worker-{i}", **pod_as_container(manifests.worker, manifests, data))
        for i in range(WORKERS)
    ]
    wait_for(
        "the bounded run to stop",
        lambda: "--run-time limit reached, stopping test" in logs(master),
        RUN_TIME_S + 90,
        master,
        *workers,
    )

    # Collect the results as a user does through `kubectl port-forward svc/locust-master 8089`.
    status, body = http_get(master, "http://127.0.0.1:8089/stats/requests/csv")
    assert status == 0, body
    counts = {row["Name"]: int(row["Request Count"]) for row in csv.DictReader(io.StringIO(body))}
    assert all(counts.get(name, 0) > 0 for name in ENDPOINTS), counts
    status, report = http_get(master, "http://127.0.0.1:8089/stats/report?download=1")
    assert status == 0 and "/auth/register" in report

    # `kubectl delete -k`: SIGTERM, then the master prints the final table and exits.
    master.stop(timeout=30)
    exit_code = master.wait(timeout=60)["StatusCode"]
    master_log = logs(master)
    assert exit_code == 0, master_log[-3000:]  # 0: no request failed
    connected = [int(n) for n in re.findall(r"(\d+) workers connected", master_log)]
    assert connected and max(connected) == WORKERS, master_log[-3000:]
    assert f"Sending spawn jobs of {RUN_OVERRIDES['USERS']} users" in master_log
    rows = final_stats(master_log)
    assert all(rows.get(name, (0, 0))[0] > 0 for name in ENDPOINTS), rows
    assert (
        rows["Aggregated"][0] >= sum(counts[name] for name in ENDPOINTS)
        and rows["Aggregated"][1] == 0
    )
    for worker in workers:  # the master's quit reaches the workers, which exit cleanly
        assert worker.wait(timeout=60)["StatusCode"] == 0, logs(worker)[-2000:]
