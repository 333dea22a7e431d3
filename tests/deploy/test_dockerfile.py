#!/usr/bin/python3
"""deploy/Dockerfile has the properties issue 7 asks for, checked by parsing
it (no Docker engine here): two stages on debian:bookworm-slim; the build
stage uses deploy/install-deps.sh --build-only and the cmake invocation of
deploy/run.sh; the runtime stage installs only runtime libraries (exactly
those the binary links, by its ELF NEEDED entries), runs as a non-root user
under tini, exposes 8003, probes /healthz, is configured by environment and
binds 0.0.0.0 with a token required."""

import os
import re
import shlex
import subprocess
import unittest

SRC = os.environ.get("ACTOREXEC_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))

# Packages of debian:bookworm-slim itself that the binary may link.
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6"}


def read(rel):
    with open(os.path.join(SRC, rel)) as f:
        return f.read()


def instructions(text):
    """[(KEYWORD, args)] with continuation lines joined, comments dropped."""
    out, cur = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if cur and s.startswith("#"):
            continue
        cur += (" " if cur else "") + s
        if cur.endswith("\\"):
            cur = cur[:-1].rstrip()
            continue
        kw, _, args = cur.partition(" ")
        out.append((kw.upper(), args.strip()))
        cur = ""
    return out


def stages(instrs):
    """{stage name: [(KEYWORD, args)]} plus each stage's base image."""
    result, bases, name = {}, {}, None
    for kw, args in instrs:
        if kw == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) >= 3 and parts[1].lower() == "as" \
                else str(len(result))
            bases[name] = parts[0]
            result[name] = []
        elif name is not None:
            result[name].append((kw, args))
    return result, bases


def cmake_commands(text):
    """Every `cmake ...` command of a shell text, as normalized argv."""
    text = text.replace("\\\n", " ")
    cmds = []
    for chunk in re.split(r"&&|\n|;", text):
        chunk = chunk.strip()
        if chunk.startswith("cmake "):
            argv = shlex.split(chunk)
            argv = ["BUILD" if a in ("build", '"$build_dir"', "$build_dir")
                    else a for a in argv]
            cmds.append(argv)
    return cmds


def apt_packages(run_args):
    m = re.search(r"apt-get install ([^&;]*)", run_args)
    return [p for p in m.group(1).split() if not p.startswith("-")] if m \
        else []


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text = read("deploy/Dockerfile")
        cls.stages, cls.bases = stages(instructions(cls.text))
        names = list(cls.stages)
        cls.build = cls.stages[names[0]]
        cls.runtime = cls.stages[names[-1]]

    def args(self, stage, kw):
        return [a for k, a in stage if k == kw]

    def test_multi_stage_on_bookworm_slim(self):
        self.assertGreaterEqual(len(self.stages), 2)
        for name, base in self.bases.items():
            self.assertEqual(base, "debian:bookworm-slim", name)

    def test_build_stage_uses_the_project_scripts(self):
        run = " && ".join(self.args(self.build, "RUN"))
        self.assertIn("./deploy/install-deps.sh --build-only", run)
        # The same cmake configure and build as deploy/run.sh.
        run_sh = read("deploy/run.sh").replace('"$build_dir"', "build") \
            .replace("$build_dir", "build")
        expected = cmake_commands(run_sh)
        self.assertTrue(expected, "no cmake command in deploy/run.sh")
        self.assertEqual(cmake_commands(run), expected)

    def test_runtime_has_only_runtime_packages(self):
        pkgs = set()
        for run in self.args(self.runtime, "RUN"):
            pkgs.update(apt_packages(run))
        self.assertIn("tini", pkgs)
        for p in pkgs:
            self.assertFalse(p.endswith("-dev"), p)
            self.assertNotIn(p, {"g++", "gcc", "cmake", "ninja-build",
                                 "ccache", "pkg-config", "build-essential"})
        self.assertIn("--no-install-recommends",
                      " ".join(self.args(self.runtime, "RUN")))
        self.assertIn("rm -rf /var/lib/apt/lists",
                      " ".join(self.args(self.runtime, "RUN")))

    def test_runtime_packages_cover_what_the_binary_links(self):
        binary = os.environ.get("ACTOREXEC_BIN")
        if not binary or not os.path.exists(binary):
            self.skipTest("ACTOREXEC_BIN not set")
        pkgs = set()
        for run in self.args(self.runtime, "RUN"):
            pkgs.update(apt_packages(run))
        ldd = subprocess.run(["ldd", binary], capture_output=True,
                             text=True, check=True).stdout
        libs = re.findall(r"=> (/\S+)", ldd)
        self.assertTrue(libs)
        needed = set()
        for lib in libs:
            real = os.path.realpath(lib)
            owner = None
            for path in {lib, real, "/usr" + lib, "/usr" + real}:
                p = subprocess.run(["dpkg", "-S", path], capture_output=True,
                                   text=True)
                if p.returncode == 0:
                    owner = p.stdout.split(":")[0]
                    break
            self.assertIsNotNone(owner, f"no Debian package owns {lib}")
            needed.add(owner)
        # A sanitizer build links the compiler's runtimes; images never do.
        needed = {p for p in needed
                  if not re.match(r"lib(asan|ubsan|lsan|tsan)\d", p)}
        missing = needed - pkgs - BASE_IMAGE_PACKAGES
        self.assertEqual(missing, set(),
                         "runtime stage lacks libraries the binary links")
        extra = {p for p in pkgs if p.startswith("lib")} - needed
        self.assertEqual(extra, set(), "runtime stage installs unused libs")

    def test_binary_copied_from_build_stage(self):
        copies = self.args(self.runtime, "COPY")
        self.assertTrue(any(c.startswith("--from=build") and "actorexec" in c
                            for c in copies), copies)

    def test_non_root_user(self):
        users = self.args(self.runtime, "USER")
        self.assertTrue(users, "no USER in the runtime stage")
        user = users[-1].split(":")[0]
        self.assertNotIn(user, ("root", "0"))

    def test_tini_is_pid_1(self):
        entry = self.args(self.runtime, "ENTRYPOINT")
        self.assertTrue(entry)
        import json
        argv = json.loads(entry[-1])
        self.assertEqual(argv[0], "/usr/bin/tini")
        self.assertEqual(argv[1], "--")
        self.assertTrue(argv[2].endswith("/actorexec"))

    def test_expose_and_healthcheck(self):
        self.assertIn("8003", self.args(self.runtime, "EXPOSE"))
        hc = self.args(self.runtime, "HEALTHCHECK")
        self.assertTrue(hc)
        self.assertIn("/healthz", hc[-1])
        self.assertRegex(hc[-1], r"--interval=\d+s")

    def test_configured_by_environment_bound_wide_with_token(self):
        env = " ".join(self.args(self.runtime, "ENV"))
        self.assertRegex(env, r"ACTOREXEC_HOST=0\.0\.0\.0")
        self.assertRegex(env, r"ACTOREXEC_PORT=8003")
        self.assertRegex(env, r"ACTOREXEC_AUTH_TOKEN_FILE=/\S+")
        # Without a token the server refuses 0.0.0.0; nothing here may
        # switch that off, and no token may be baked into the image.
        self.assertNotIn("ACTOREXEC_INSECURE", self.text)
        self.assertNotIn("--insecure", self.text)
        self.assertNotRegex(self.text, r"ACTOREXEC_AUTH_TOKEN=")

    def test_install_script_knows_build_only(self):
        self.assertIn("--build-only", read("deploy/install-deps.sh"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
