#!/usr/bin/python3
"""The other deployment files, checked by parsing: Kubernetes manifests
(probes, grace above the drain time, non-root, read-only root, resources,
scrape annotations, session affinity), docker-compose with Prometheus, the
Prometheus configuration (promtool check config) and the systemd unit."""

import configparser
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

SRC = os.environ.get("ACTOREXEC_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))

# The server's drain: the shutdown grace (default) plus the margin it allows
# itself past it (app/main.cpp drain_margin).
SHUTDOWN_GRACE_S = 10
DRAIN_MARGIN_S = 3


def path(rel):
    return os.path.join(SRC, rel)


def load_all(rel):
    with open(path(rel)) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


class KubernetesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        docs = []
        for name in sorted(os.listdir(path("deploy/k8s"))):
            if name.endswith((".yaml", ".yml")):
                docs += load_all(os.path.join("deploy/k8s", name))
        cls.by_kind = {}
        for d in docs:
            cls.by_kind.setdefault(d["kind"], []).append(d)
        cls.deploy = cls.by_kind["Deployment"][0]
        cls.pod = cls.deploy["spec"]["template"]["spec"]
        cls.container = cls.pod["containers"][0]

    def test_probes(self):
        c = self.container
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")

    def test_grace_above_drain(self):
        env = env_of(self.container)
        grace_ms = int(env.get("ACTOREXEC_SHUTDOWN_GRACE_MS",
                               SHUTDOWN_GRACE_S * 1000))
        pre_stop = 0
        hook = self.container.get("lifecycle", {}).get("preStop", {})
        cmd = hook.get("exec", {}).get("command", [])
        if cmd[:1] == ["sleep"]:
            pre_stop = int(cmd[1])
        self.assertGreater(self.pod["terminationGracePeriodSeconds"],
                           pre_stop + grace_ms / 1000 + DRAIN_MARGIN_S)

    def test_non_root_read_only(self):
        psc = self.pod["securityContext"]
        csc = self.container["securityContext"]
        self.assertTrue(psc["runAsNonRoot"])
        self.assertNotEqual(psc.get("runAsUser", 0), 0)
        self.assertTrue(csc["readOnlyRootFilesystem"])
        self.assertFalse(csc["allowPrivilegeEscalation"])
        self.assertEqual(csc["capabilities"]["drop"], ["ALL"])
        mounts = {m["mountPath"] for m in self.container["volumeMounts"]}
        self.assertIn("/tmp", mounts)  # writable scratch for children

    def test_resources(self):
        res = self.container["resources"]
        for k in ("requests", "limits"):
            self.assertIn("cpu", res[k])
            self.assertIn("memory", res[k])

    def test_token_from_secret_bound_wide(self):
        env = env_of(self.container)
        self.assertEqual(env["ACTOREXEC_HOST"], "0.0.0.0")
        token_file = env["ACTOREXEC_AUTH_TOKEN_FILE"]
        mounts = {m["name"]: m["mountPath"]
                  for m in self.container["volumeMounts"]}
        self.assertTrue(token_file.startswith(mounts["token"] + "/"))
        vols = {v["name"]: v for v in self.pod["volumes"]}
        self.assertIn("secret", vols["token"])
        self.assertNotIn("ACTOREXEC_INSECURE", env)
        self.assertNotIn("ACTOREXEC_AUTH_TOKEN", env)

    def test_scrape_annotations_and_service(self):
        ann = self.deploy["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(ann["prometheus.io/scrape"], "true")
        self.assertEqual(ann["prometheus.io/port"], "8003")
        self.assertEqual(ann["prometheus.io/path"], "/metrics")
        # Annotation scrapers send no token.
        self.assertEqual(env_of(self.container)["ACTOREXEC_METRICS_NO_AUTH"],
                         "true")
        svc = self.by_kind["Service"][0]
        self.assertEqual(svc["spec"]["selector"],
                         self.deploy["spec"]["selector"]["matchLabels"])
        self.assertEqual(svc["spec"]["sessionAffinity"], "ClientIP")
        self.assertEqual(svc["spec"]["ports"][0]["port"], 8003)
        # Pods or the Service, not both: Prometheus would scrape twice.
        svc_ann = svc["metadata"].get("annotations") or {}
        self.assertFalse([k for k in svc_ann if k.startswith("prometheus.io")],
                         svc_ann)


class ComposeTest(unittest.TestCase):
    def test_actorexec_and_prometheus(self):
        doc = load_all("deploy/docker-compose.yml")[0]
        svc = doc["services"]
        self.assertEqual(svc["actorexec"]["build"]["dockerfile"],
                         "deploy/Dockerfile")
        self.assertIn("prometheus", svc)
        self.assertTrue(any("prometheus.yml" in v
                            for v in svc["prometheus"]["volumes"]))
        for s in ("actorexec", "prometheus"):
            for p in svc[s].get("ports", []):
                self.assertTrue(p.startswith("127.0.0.1:"), p)
        grace = svc["actorexec"]["stop_grace_period"]
        self.assertGreater(int(grace.rstrip("s")),
                           SHUTDOWN_GRACE_S + DRAIN_MARGIN_S)

    def test_read_only_root_leaves_the_working_directory_writable(self):
        doc = load_all("deploy/docker-compose.yml")[0]
        app = doc["services"]["actorexec"]
        self.assertTrue(app["read_only"])
        with open(path("deploy/Dockerfile")) as f:
            workdir = [line.split()[1] for line in f
                       if line.startswith("WORKDIR ")][-1]
        mounts = [t.split(":")[0] for t in app.get("tmpfs", [])]
        mounts += [v.split(":")[1] for v in app.get("volumes", [])
                   if isinstance(v, str) and ":" in v]
        self.assertIn("/tmp", mounts)
        self.assertIn(workdir, mounts)

    def test_prometheus_config(self):
        with open(path("deploy/prometheus.yml")) as f:
            text = f.read()
        doc = yaml.safe_load(text)
        job = doc["scrape_configs"][0]
        self.assertEqual(job["metrics_path"], "/metrics")
        self.assertEqual(job["static_configs"][0]["targets"],
                         ["actorexec:8003"])
        tool = shutil.which("promtool")
        if tool is None:
            self.fail("promtool not found: install the Debian package "
                      "'prometheus' (deploy/install-deps.sh does)")
        # promtool insists the credentials file exists: point it at one.
        with tempfile.TemporaryDirectory() as d:
            cred = os.path.join(d, "token")
            with open(cred, "w") as f:
                f.write("x\n")
            cfg = os.path.join(d, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write(text.replace(
                    job["authorization"]["credentials_file"], cred))
            p = subprocess.run([tool, "check", "config", cfg],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


class SystemdTest(unittest.TestCase):
    def test_unit(self):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str
        unit.read(path("deploy/systemd/actorexec.service"))
        svc = unit["Service"]
        self.assertNotIn(svc.get("User", "root"), ("root", "0"))
        self.assertIn("--auth-token-file", svc["ExecStart"])
        self.assertEqual(svc["KillSignal"], "SIGTERM")
        self.assertGreater(int(svc["TimeoutStopSec"]),
                           SHUTDOWN_GRACE_S + DRAIN_MARGIN_S)
        self.assertEqual(svc["NoNewPrivileges"], "yes")
        self.assertEqual(unit["Install"]["WantedBy"], "multi-user.target")

    def test_documentation_is_installed_by_the_documented_steps(self):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str
        unit.read(path("deploy/systemd/actorexec.service"))
        doc = unit["Unit"]["Documentation"]
        self.assertTrue(doc.startswith("file://"), doc)
        target = doc[len("file://"):]
        with open(path("docs/operations.md")) as f:
            ops = f.read()
        installed = re.findall(r"install -D -m 0644 -t (\S+) docs/\*\.md", ops)
        self.assertIn(os.path.dirname(target), installed)
        self.assertTrue(os.path.exists(path("docs/" + os.path.basename(target))))


if __name__ == "__main__":
    unittest.main(verbosity=2)
