"""The deployment files agree with each other and with what the services really read and export.

No Docker engine is needed: the compose file, the Prometheus and Grafana configuration, the dashboard's
PromQL and the Kubernetes manifests are parsed and checked against ``shared.settings`` and
``shared.metrics``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from shared.metrics import METRIC_NAMES, ServiceMetrics
from shared.settings import SERVICE_PORTS, ServiceSettings, StackSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVICES = tuple(SERVICE_PORTS)
TEST_ENV = {
    "FUPIN_JWT_SECRET": "a-real-secret-for-the-deploy-tests-0123456789",
    "POSTGRES_PASSWORD": "pw0123456789",
    "GRAFANA_ADMIN_PASSWORD": "grafana-pw",
}

# ---------------------------------------------------------------------------------------------------
# helpers

_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$\$")


class MissingVariable(Exception):
    pass


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` interpolation, recursively."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = env.get(name)
        if op in (":?", "?") and not current:
            raise MissingVariable(f"{name}: {arg}")
        if op in (":-", "-") and not current:
            return arg
        return current or ""

    return _VAR.sub(one, value)


@cache
def raw_compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@cache
def compose() -> dict[str, Any]:
    return interpolate(raw_compose(), TEST_ENV)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def volume_targets(service: dict[str, Any]) -> dict[str, str]:
    """Mount target → source, for short-syntax volume entries."""
    out = {}
    for entry in service.get("volumes", []):
        parts = entry.split(":")
        out[parts[1]] = parts[0]
    return out


def created_databases() -> tuple[str, set[str]]:
    """The owner and the database names deploy/postgres/init.* creates."""
    [init] = sorted((DEPLOY / "postgres").glob("init.*"))
    found = re.findall(r"CREATE\s+DATABASE\s+(\w+)\s+OWNER\s+(\w+)", init.read_text(), re.IGNORECASE)
    owners = {owner for _, owner in found}
    assert len(owners) == 1, owners
    return owners.pop(), {name for name, _ in found}


def nats_conf() -> str:
    return (DEPLOY / "nats" / "nats.conf").read_text()


def healthcheck_command(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


# ---------------------------------------------------------------------------------------------------
# docker-compose.yml


def test_compose_refuses_to_start_without_the_secrets() -> None:
    for required in TEST_ENV:
        env = {k: v for k, v in TEST_ENV.items() if k != required}
        with pytest.raises(MissingVariable, match=required):
            interpolate(raw_compose(), env)
    assert re.search(r"\$\{FUPIN_JWT_SECRET:\?", (ROOT / "docker-compose.yml").read_text())


def test_env_example_names_every_required_variable() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    example = (DEPLOY / "env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", example, re.MULTILINE))
    assert required == set(TEST_ENV)
    assert required <= listed


@pytest.mark.parametrize("name", SERVICES)
def test_each_app_service_is_built_checked_and_configured(name: str) -> None:
    service = compose()["services"][name]
    port = SERVICE_PORTS[name]
    assert service.get("image") or service.get("build")
    build = service["build"]
    assert build["context"] == "."
    assert (ROOT / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    env = environment(service)
    assert env["SERVICE"] == name
    assert env["PORT"] == str(port)
    assert f"{port}:{port}" in service["ports"]
    check = healthcheck_command(service)
    assert "/readyz" in check and "PORT" in check
    assert env["FUPIN_ENVIRONMENT"] == "production"
    assert env["FUPIN_JWT_SECRET"] == TEST_ENV["FUPIN_JWT_SECRET"]


@pytest.mark.parametrize("name", SERVICES)
def test_each_app_service_has_its_own_database_that_init_creates(name: str) -> None:
    env = environment(compose()["services"][name])
    url = make_url(env[f"FUPIN_{name.upper()}_DATABASE_URL"])
    owner, databases = created_databases()
    postgres_env = environment(compose()["services"]["postgres"])
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "postgres" and (url.port or 5432) == 5432
    assert url.database == f"fupin_{name}"
    assert url.database in databases
    assert url.username == owner == postgres_env["POSTGRES_USER"]
    assert url.password == postgres_env["POSTGRES_PASSWORD"] == TEST_ENV["POSTGRES_PASSWORD"]
    others = {k for k in env if k.endswith("_DATABASE_URL")} - {f"FUPIN_{name.upper()}_DATABASE_URL"}
    assert not others, f"{name} carries another service's database URL: {others}"


def test_init_creates_exactly_one_database_per_service() -> None:
    _, databases = created_databases()
    assert databases == {f"fupin_{name}" for name in SERVICES}


@pytest.mark.parametrize("name", SERVICES)
def test_settings_read_what_compose_sets(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The variable names are the ones shared.settings reads: a misspelt one would fall back to SQLite."""
    env = environment(compose()["services"][name])
    for key in [k for k in os.environ if k.startswith("FUPIN_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    stack = StackSettings()
    assert stack.environment == "production"
    assert stack.nats_url == "nats://nats:4222"
    assert stack.jwt_secret == TEST_ENV["FUPIN_JWT_SECRET"]
    assert stack.database_url(name) == env[f"FUPIN_{name.upper()}_DATABASE_URL"]
    assert ServiceSettings.for_service(name).database_url == env[f"FUPIN_{name.upper()}_DATABASE_URL"]
    # the CLI inside the container reaches the other services' databases through FUPIN_POSTGRES_URL
    for other in SERVICES:
        other_url = make_url(stack.database_url(other))
        assert (other_url.host, other_url.database) == ("postgres", f"fupin_{other}")


@pytest.mark.parametrize("name", SERVICES)
def test_app_services_wait_for_healthy_nats_and_postgres(name: str) -> None:
    service = compose()["services"][name]
    env = environment(service)
    assert env["FUPIN_NATS_URL"] == "nats://nats:4222"
    depends = service["depends_on"]
    assert depends["nats"]["condition"] == "service_healthy"
    assert depends["postgres"]["condition"] == "service_healthy"


def test_nats_has_a_volume_a_healthcheck_and_its_conf() -> None:
    nats = compose()["services"]["nats"]
    conf = nats_conf()
    mounts = volume_targets(nats)
    store_dir = re.search(r"store_dir:\s*\"?([^\s\"]+)", conf).group(1)
    assert mounts[store_dir] in compose()["volumes"], "JetStream store must be a named volume"
    command = nats["command"]
    conf_path = command[command.index("-c") + 1]
    assert Path(mounts[conf_path]).resolve() == DEPLOY / "nats" / "nats.conf"
    assert re.search(r"^http:\s*\S*8222\s*$", conf, re.MULTILINE)
    assert re.search(r"^listen:\s*\S*4222\s*$", conf, re.MULTILINE)
    check = healthcheck_command(nats)
    assert "8222" in check and "/healthz" in check
    assert nats["image"].startswith("nats:2.15")


def test_nats_fsyncs_every_write() -> None:
    jetstream = re.search(r"jetstream\s*\{(.*?)\}", nats_conf(), re.DOTALL).group(1)
    assert re.search(r"^\s*sync_interval:\s*always\s*$", jetstream, re.MULTILINE)


def test_nats_server_accepts_the_conf() -> None:
    from shared.natsserver import nats_binary

    try:
        binary = nats_binary()
    except FileNotFoundError:
        pytest.skip("nats-server binary not installed")
    result = subprocess.run(
        [binary, "-t", "-c", str(DEPLOY / "nats" / "nats.conf")], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout + result.stderr


def test_postgres_has_a_volume_a_healthcheck_and_the_init_script() -> None:
    postgres = compose()["services"]["postgres"]
    mounts = volume_targets(postgres)
    assert mounts["/var/lib/postgresql/data"] in compose()["volumes"]
    [init_target] = [t for t in mounts if t.startswith("/docker-entrypoint-initdb.d/")]
    assert Path(mounts[init_target]).resolve() == next((DEPLOY / "postgres").glob("init.*"))
    assert init_target.endswith((".sql", ".sh"))
    check = healthcheck_command(postgres)
    assert "pg_isready" in check
    assert postgres["image"].startswith("postgres:15")


def test_every_mounted_file_exists() -> None:
    for name, service in compose()["services"].items():
        for source in volume_targets(service).values():
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_services_share_one_definition() -> None:
    """The five app services come from one YAML anchor, so they cannot drift apart."""
    text = (ROOT / "docker-compose.yml").read_text()
    anchor = re.search(r"^(x-[\w-]+):\s*&(\w[\w-]*)", text, re.MULTILINE)
    assert anchor
    for name in SERVICES:
        block = re.search(rf"^  {name}:\n((?:    .*\n|\n)+)", text, re.MULTILINE).group(1)
        assert "<<: *" in block


# ---------------------------------------------------------------------------------------------------
# Dockerfile


def test_dockerfile_runs_any_service_as_non_root() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert froms and all(f.startswith("python:3.11-slim") for f in froms)
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    healthcheck = re.search(r"^HEALTHCHECK (?:[^\n]*\\\n)*[^\n]*", text, re.MULTILINE).group(0)
    assert "/healthz" in healthcheck and "python" in healthcheck
    cmd = re.search(r"^CMD (.*)$", text, re.MULTILINE).group(1)
    assert "services.${SERVICE}.main:create_app" in cmd and "-m shared.serve" in cmd and "${PORT}" in cmd
    assert "--workers" in cmd and "${FUPIN_WORKERS}" in cmd
    assert re.search(r"pip install[^\n]* \.", text)


def test_dockerignore_lets_in_what_the_dockerfile_copies() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", "allow-list: everything is excluded first"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    copies = re.findall(r"^COPY\s+(?!--from)(.+)$", text, re.MULTILINE)
    sources = [src for line in copies for src in line.split()[:-1]]
    assert sources
    for source in sources:
        assert source.rstrip("/") in allowed
        assert (ROOT / source).exists()
    assert not {".venv", "var", ".git", "tests"} & allowed


# ---------------------------------------------------------------------------------------------------
# Prometheus and Grafana


def test_prometheus_scrapes_every_service_at_its_port() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {}
    for job in config["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics"
        for static in job["static_configs"]:
            for target in static["targets"]:
                targets[target] = job["job_name"]
    assert {f"{name}:{port}": name for name, port in SERVICE_PORTS.items()}.items() <= targets.items()
    for target in targets:
        assert target.split(":")[0] in compose()["services"]
    prometheus = compose()["services"]["prometheus"]
    mounts = volume_targets(prometheus)
    config_path = next(a.split("=", 1)[1] for a in prometheus["command"] if a.startswith("--config.file="))
    assert Path(mounts[config_path]).resolve() == DEPLOY / "prometheus" / "prometheus.yml"


@cache
def dashboard() -> dict[str, Any]:
    return json.loads((DEPLOY / "grafana" / "dashboards" / "fupin.json").read_text())


def all_panels() -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard()["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def test_grafana_is_provisioned_with_the_datasource_and_the_dashboard() -> None:
    grafana = compose()["services"]["grafana"]
    mounts = volume_targets(grafana)
    assert Path(mounts["/etc/grafana/provisioning"]).resolve() == DEPLOY / "grafana" / "provisioning"
    datasources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    [source] = datasources["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/fupin.yml").read_text())
    [provider] = providers["providers"]
    dashboards_dir = provider["options"]["path"]
    assert Path(mounts[dashboards_dir]).resolve() == DEPLOY / "grafana" / "dashboards"
    uids = {p["datasource"]["uid"] for p in all_panels() if p["type"] != "row"}
    uids |= {t["datasource"]["uid"] for p in all_panels() for t in p.get("targets", [])}
    uids |= {v["datasource"]["uid"] for v in dashboard()["templating"]["list"]}
    assert uids == {source["uid"]}


# --- PromQL in the dashboard names only metrics and labels the services export ----------------------

PROMQL_FUNCTIONS_AND_KEYWORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values",
    "group", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
    "offset", "inf", "nan",
}  # fmt: skip


@cache
def exported() -> dict[str, set[str]]:
    """Sample name → label names, from the exposition of a ServiceMetrics with every metric touched."""
    metrics = ServiceMetrics("registry")
    metrics.requests(method="GET", route="/api/v1/households", status="200").inc()
    metrics.latency(method="GET", route="/api/v1/households").observe(0.01)
    metrics.outbox_backlog.set(3)
    metrics.events_published.inc()
    metrics.events_consumed(consumer="registry-household-status", outcome="ok").inc()
    metrics.consumer_pending(consumer="registry-household-status").set(2)
    metrics.dead_letters(consumer="registry-household-status").inc()
    text = generate_latest(metrics.registry).decode()
    samples: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, set()).update(sample.labels)
    return samples


def allowed_metrics() -> dict[str, set[str]]:
    """Exported sample names that belong to a METRIC_NAMES family (no ``_created``), with their labels
    plus the ``job`` and ``instance`` labels Prometheus adds."""
    bases = {name.removesuffix("_total") for name in METRIC_NAMES}
    allowed = {}
    for name, labels in exported().items():
        family = next((name.removesuffix(s) for s in ("_total", "_bucket", "_sum", "_count") if name.endswith(s)), name)
        if family in bases:
            allowed[name] = labels | {"job", "instance"}
    return allowed


def test_metric_names_constant_matches_the_exposition() -> None:
    names = exported()
    for name in METRIC_NAMES:
        assert name in names or f"{name}_bucket" in names, name
    assert "fupin_http_request_duration_seconds_bucket" in allowed_metrics()
    assert "le" in allowed_metrics()["fupin_http_request_duration_seconds_bucket"]
    assert "fupin_http_requests_created" not in allowed_metrics()


def expressions() -> list[str]:
    exprs = [t["expr"] for p in all_panels() for t in p.get("targets", []) if t.get("expr")]
    for variable in dashboard()["templating"]["list"]:
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query)
        assert match, query
        exprs.append(f'{match.group(1)}{{{match.group(2)}!=""}}')
    return exprs


def selectors(expr: str) -> list[tuple[str, set[str]]]:
    """(metric name, label names in its matcher) for every vector selector in a PromQL expression."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\$\{?\w+\}?", "0", text)
    found = []
    for match in re.finditer(r"(?<![\w.:])([A-Za-z_:][\w:]*)\s*(\{[^}]*\})?\s*(\()?", text):
        name, matcher, call = match.groups()
        if call or name in PROMQL_FUNCTIONS_AND_KEYWORDS:
            continue
        before = text[: match.start()]
        if re.search(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*$", before):
            continue  # a label in a grouping clause
        labels = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", matcher or ""))
        found.append((name, labels))
    return found


def test_selector_parser_finds_metrics_not_labels_or_functions() -> None:
    got = selectors(
        'histogram_quantile(0.95, sum by (job, le) (rate(fupin_x_bucket{job=~"$job", s=~"5.."}[$__rate_interval])))'
        " / on (job) group_left sum without (instance) (fupin_y_total)"
    )
    assert got == [("fupin_x_bucket", {"job", "s"}), ("fupin_y_total", set())]


def test_dashboard_queries_name_only_exported_metrics_and_labels() -> None:
    allowed = allowed_metrics()
    exprs = expressions()
    assert len(exprs) >= 8
    for expr in exprs:
        found = selectors(expr)
        assert found, f"no metric in {expr!r}"
        labels_in_expr: set[str] = set()
        for name, labels in found:
            assert name in allowed, f"{name} is not exported by the services ({expr!r})"
            assert labels <= allowed[name], f"{name} has no label {labels - allowed[name]} ({expr!r})"
            labels_in_expr |= allowed[name]
        for clause in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
            grouping = {label.strip() for label in clause.split(",") if label.strip()}
            assert grouping <= labels_in_expr, f"grouping by unknown label {grouping - labels_in_expr}"


def test_dashboard_covers_traffic_latency_errors_and_events() -> None:
    exprs = expressions()
    joined = "\n".join(exprs)
    used = {name for expr in exprs for name, _ in selectors(expr)}
    assert {
        "fupin_http_requests_total",
        "fupin_http_request_duration_seconds_bucket",
        "fupin_outbox_backlog",
        "fupin_consumer_pending",
        "fupin_dead_letters_total",
        "fupin_events_published_total",
        "fupin_events_consumed_total",
    } <= used
    assert 'status=~"5.."' in joined
    quantiles = re.findall(r"histogram_quantile\((0\.\d+),\s*(.*)", joined)
    assert {q for q, _ in quantiles} >= {"0.5", "0.95"}
    for _, rest in quantiles:
        assert "_bucket" in rest and re.search(r"by \([^)]*\ble\b", rest), "quantiles need the le label"
    for expr in exprs:
        for name, _ in selectors(expr):
            if name.endswith("_total"):
                assert re.search(rf"(rate|increase)\({name}", expr), f"counter {name} used raw in {expr!r}"
    titles = [p["title"] for p in all_panels() if p["type"] != "row"]
    assert len(titles) == len(set(titles))
    ids = [p["id"] for p in all_panels()]
    assert len(ids) == len(set(ids))


# ---------------------------------------------------------------------------------------------------
# Kubernetes


def k8s_documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def test_k8s_manifests_parse_and_kustomization_lists_existing_files() -> None:
    docs = k8s_documents()
    assert docs
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (DEPLOY / "k8s" / resource).exists(), resource
    assert "secret.example.yaml" not in kustomization["resources"]


def deployments() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in k8s_documents() if d.get("kind") == "Deployment"}


def test_every_deployment_has_probes_replicas_and_secrets() -> None:
    found = deployments()
    assert set(found) == set(SERVICES)
    secret_keys = set(yaml.safe_load((DEPLOY / "k8s" / "secret.example.yaml").read_text())["stringData"])
    config = next(d for d in k8s_documents() if d.get("kind") == "ConfigMap")
    for name, deployment in found.items():
        spec = deployment["spec"]
        assert spec["replicas"] >= 2
        template = spec["template"]
        assert spec["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
        [container] = template["spec"]["containers"]
        port = SERVICE_PORTS[name]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["http"] == port
        readiness, liveness = container["readinessProbe"], container["livenessProbe"]
        assert readiness["httpGet"]["path"] == "/readyz"
        assert liveness["httpGet"]["path"] == "/healthz"
        for probe in (readiness, liveness):
            assert probe["httpGet"]["port"] in ("http", port)
        env = {e["name"]: e for e in container["env"]}
        assert env["SERVICE"]["value"] == name
        assert env["PORT"]["value"] == str(port)
        for var in ("FUPIN_JWT_SECRET", f"FUPIN_{name.upper()}_DATABASE_URL"):
            ref = env[var]["valueFrom"]["secretKeyRef"]
            assert ref["key"] in secret_keys, (name, var)
        url = make_url(
            yaml.safe_load((DEPLOY / "k8s" / "secret.example.yaml").read_text())["stringData"][
                env[f"FUPIN_{name.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"]
            ]
        )
        assert url.database == f"fupin_{name}"
        assert [e["configMapRef"]["name"] for e in container["envFrom"]] == [config["metadata"]["name"]]
        assert template["spec"]["securityContext"]["runAsNonRoot"] is True
    assert config["data"]["FUPIN_ENVIRONMENT"] != "development"
    assert config["data"]["FUPIN_NATS_URL"].startswith("nats://")


def test_every_deployment_has_a_service_on_its_port() -> None:
    services = {d["metadata"]["name"]: d for d in k8s_documents() if d.get("kind") == "Service"}
    for name, deployment in deployments().items():
        service = services[name]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        [port] = service["spec"]["ports"]
        assert port["port"] == SERVICE_PORTS[name]
        assert port["targetPort"] in ("http", SERVICE_PORTS[name])


def test_nats_helm_values_make_a_synced_three_node_jetstream_cluster() -> None:
    values = yaml.safe_load((DEPLOY / "k8s" / "nats-values.yaml").read_text())["config"]
    assert values["cluster"] == {"enabled": True, "replicas": 3}
    jetstream = values["jetstream"]
    assert jetstream["enabled"] is True
    assert jetstream["fileStore"]["enabled"] is True and jetstream["fileStore"]["pvc"]["enabled"] is True
    assert jetstream["merge"]["sync_interval"] == "always"


# ---------------------------------------------------------------------------------------------------
# docs/operations.md


def documented_commands() -> list[list[str]]:
    text = (ROOT / "docs" / "operations.md").read_text()
    commands = []
    for block in re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            words = shlex.split(line)
            if "fupin" in words:
                commands.append(words[words.index("fupin") + 1 :])
    return commands


def test_operations_doc_uses_real_cli_commands_and_options() -> None:
    from shared.cli import app

    root = typer.main.get_command(app)
    commands = documented_commands()
    seen = set()
    for words in commands:
        command, path = root, []
        for word in words:
            if word.startswith("-") or not hasattr(command, "commands"):
                break
            assert word in command.commands, f"`fupin {' '.join([*path, word])}` does not exist"
            command = command.commands[word]
            path.append(word)
        options = {opt for param in command.params for opt in param.opts}
        for word in words:
            if word.startswith("--"):
                assert word.split("=")[0] in options, f"`fupin {' '.join(path)}` has no {word}"
        seen.add(" ".join(path))
    assert {"token", "events replay", "events dead-letters list", "events dead-letters replay"} <= seen


def test_postgres_keeps_key_values_out_of_its_log() -> None:
    """A unique violation's DETAIL line would repeat the clashing resident ID into the server log."""
    command = compose()["services"]["postgres"]["command"]
    assert "log_error_verbosity=terse" in command


def test_the_test_cluster_is_terse_too(postgres_server) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{postgres_server.url}/postgres")
    with engine.connect() as conn:
        assert conn.execute(text("SHOW log_error_verbosity")).scalar() == "terse"
    engine.dispose()
