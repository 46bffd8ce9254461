"""containerd, the real client: a private containerd (own socket, root and
state dirs, CRI disabled) drives the runtime under test through its runc
shim (io.containerd.runc.v2 with BinaryName = $EDGECR_BIN, via `ctr run
--runc-binary`).  The image is built here from the busybox rootfs as an OCI
layout (tar layer, config, manifest, index) and imported with ctr.

containerd and the shims it started are stopped by PID at the end; the
shims are found by their command line naming our private socket."""
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from itlib import (CG, REPO, RUNTIME, _build_rootfs, cgroup_mounts, pid_alive,
                   wait_until)
from containerd_harness import CONTAINERD, CTR, DISABLED, Containerd
import oci_image

pytestmark = pytest.mark.containerd

IMAGE = "docker.io/edgecr-test/busybox:latest"

if not (CONTAINERD and CTR):
    pytestmark = [pytest.mark.containerd,
                  pytest.mark.skip(reason="containerd/ctr not installed")]


# ------------------------------------------------------------------ image

def build_oci_archive(rootfs, dest):
    oci_image.build_oci_archive(rootfs, dest, IMAGE, cmd=["sh"])


# ------------------------------------------------------------------ daemon

@pytest.fixture(scope="module")
def cd_tmp():
    d = tempfile.mkdtemp(prefix="edgecr-ctrd-")
    os.chmod(d, 0o755)
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def image_archive(cd_tmp):
    rootfs = _build_rootfs(cd_tmp / "img-rootfs")
    archive = cd_tmp / "busybox-oci.tar"
    build_oci_archive(rootfs, archive)
    return archive


# ctr always asks for cpu.shares (1024): a runtime must refuse that where the
# host has no cpu controller (runc does as well), so ctr can run nothing there.
NO_CPU = None if CG.has("cpu") else (
    "ctr always sets linux.resources.cpu.shares, which needs a cpu "
    f"controller, and this host has none ({CG.describe()}); "
    "test_ctr_run_refused_without_cpu_controller checks the refusal")


@pytest.fixture(scope="module")
def containerd_any(cd_tmp, image_archive):
    d = cd_tmp / "daemon"
    d.mkdir()
    c = Containerd(d)
    try:
        c.ctr("images", "import", str(image_archive))
        yield c
    finally:
        # remove whatever tasks/containers are left, then stop everything
        for cid in c.ctr("containers", "ls", "-q", check=False).stdout.split():
            c.ctr("task", "kill", "-s", "SIGKILL", cid, check=False)
            c.ctr("task", "delete", "-f", cid, check=False)
            c.ctr("containers", "delete", cid, check=False)
        c.stop()


@pytest.fixture
def containerd(containerd_any):
    if NO_CPU:
        pytest.skip(NO_CPU)
    return containerd_any


def ctr_id():
    return "c" + uuid.uuid4().hex[:10]


def task_cgroup_dirs(c, cid):
    out = []
    for m in cgroup_mounts():
        p = Path(m, c.ns, cid)
        if p.is_dir():
            out.append(str(p))
    return out


def run_detached(c, cid, *args):
    c.ctr("run", "-d", "--runc-binary", RUNTIME, IMAGE, cid, *args)
    assert wait_until(lambda: "RUNNING" in c.ctr("task", "ls").stdout, 10)


def remove(c, cid):
    c.ctr("task", "kill", "-s", "SIGKILL", cid, check=False)
    wait_until(lambda: "STOPPED" in task_line(c, cid) or not task_line(c, cid), 10)
    c.ctr("task", "delete", cid, check=False)
    c.ctr("containers", "delete", cid, check=False)


def task_line(c, cid):
    for line in c.ctr("task", "ls").stdout.splitlines()[1:]:
        if line.split()[0] == cid:
            return line
    return ""


# ------------------------------------------------------------------ tests

@pytest.mark.sanitizer
def test_ctr_run_echo(containerd):
    cid = ctr_id()
    p = containerd.ctr("run", "--rm", "--runc-binary", RUNTIME, IMAGE, cid,
                       "echo", "hello")
    assert p.stdout.strip() == "hello"
    assert cid not in containerd.ctr("containers", "ls", "-q").stdout.split()
    assert not task_cgroup_dirs(containerd, cid)


@pytest.mark.parametrize("code", [0, 7, 42])
def test_ctr_run_exit_code(containerd, code):
    cid = ctr_id()
    p = containerd.ctr("run", "--rm", "--runc-binary", RUNTIME, IMAGE, cid,
                       "sh", "-c", f"exit {code}", check=False)
    assert p.returncode == code, p.stderr


def test_ctr_run_signal_exit(containerd):
    cid = ctr_id()
    p = containerd.ctr("run", "--rm", "--runc-binary", RUNTIME, IMAGE, cid,
                       "sh", "-c", "kill -KILL $$", check=False)
    # pid 1 cannot SIGKILL itself from inside its pid namespace: it keeps
    # running, then exits 0 -- or the runtime reports 137. Both are runc's.
    assert p.returncode in (0, 137)


def test_ctr_task_lifecycle(containerd):
    c = containerd
    cid = ctr_id()
    run_detached(c, cid, "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done")
    try:
        line = task_line(c, cid)
        assert "RUNNING" in line
        pid = int(line.split()[1])
        assert pid_alive(pid)

        # exec
        p = c.ctr("task", "exec", "--exec-id", "x1", cid, "sh", "-c",
                  "echo exec-out; exit 3", check=False)
        assert p.stdout.strip() == "exec-out"
        assert p.returncode == 3

        # ps
        ps = c.ctr("task", "ps", cid).stdout
        assert str(pid) in ps

        # pause / resume
        c.ctr("task", "pause", cid)
        assert "PAUSED" in task_line(c, cid)
        frozen = [Path(m, c.ns, cid, "freezer.state") for m in cgroup_mounts()
                  if Path(m, c.ns, cid, "freezer.state").exists()]
        if frozen:
            assert frozen[0].read_text().strip() == "FROZEN"
        c.ctr("task", "resume", cid)
        assert "RUNNING" in task_line(c, cid)

        # metrics
        m = c.ctr("task", "metrics", cid).stdout
        assert "memory" in m.lower() or "pids" in m.lower() or "cpu" in m.lower()
        mj = c.ctr("task", "metrics", "--format", "json", cid).stdout
        json.loads(mj)

        # kill (TERM is trapped: the task exits 0)
        c.ctr("task", "kill", cid)
        assert wait_until(lambda: "STOPPED" in task_line(c, cid), 10)
        assert wait_until(lambda: not pid_alive(pid), 5)

        # delete
        c.ctr("task", "delete", cid)
        assert task_line(c, cid) == ""
        assert not task_cgroup_dirs(c, cid)
    finally:
        remove(c, cid)
    c.ctr("containers", "delete", cid, check=False)
    assert cid not in c.ctr("containers", "ls", "-q").stdout.split()


def test_ctr_task_kill_sigkill_and_exit_status(containerd):
    c = containerd
    cid = ctr_id()
    run_detached(c, cid, "sleep", "1000")
    try:
        c.ctr("task", "kill", "-s", "SIGKILL", cid)
        assert wait_until(lambda: "STOPPED" in task_line(c, cid), 10)
        d = c.ctr("task", "delete", cid)
        assert "137" in d.stdout + d.stderr or d.returncode == 0
    finally:
        remove(c, cid)


def test_ctr_exec_detach_cwd_user(containerd):
    c = containerd
    cid = ctr_id()
    run_detached(c, cid, "sleep", "1000")
    try:
        c.ctr("task", "exec", "-d", "--exec-id", "bg", cid, "sleep", "500")
        assert wait_until(lambda: len(c.ctr("task", "ps", cid).stdout
                                      .splitlines()) >= 3, 5)
        p = c.ctr("task", "exec", "--exec-id", "cwd", "--cwd", "/tmp",
                  "--user", "1000", cid, "sh", "-c", "id -u; pwd")
        assert p.stdout.split() == ["1000", "/tmp"]
    finally:
        remove(c, cid)


def test_ctr_many_in_a_row(containerd):
    for i in range(5):
        cid = ctr_id()
        p = containerd.ctr("run", "--rm", "--runc-binary", RUNTIME, IMAGE, cid,
                           "sh", "-c", f"echo run-{i}")
        assert p.stdout.strip() == f"run-{i}"
        assert not task_cgroup_dirs(containerd, cid)


def test_no_shim_left_after_delete(containerd):
    c = containerd
    cid = ctr_id()
    run_detached(c, cid, "sleep", "1000")
    remove(c, cid)
    # each shim serves one container (grouping off): after delete it exits
    assert wait_until(lambda: not [
        p for p in c.shim_pids()
        if cid.encode() in Path(f"/proc/{p}/cmdline").read_bytes()], 10)


# ---------------------------------------------------------- recorded calls

def test_record_runtime_calls(containerd, cd_tmp):
    """Run through a logging wrapper and check the calls the shim makes
    (docs/containerd.md lists them)."""
    c = containerd
    log = cd_tmp / "calls.log"
    wrapper = cd_tmp / "edgecr-logged"
    wrapper.write_text(f"""#!/bin/sh
printf '%s\\n' "$*" >> {log}
exec {RUNTIME} "$@"
""")
    wrapper.chmod(0o755)
    cid = ctr_id()
    c.ctr("run", "-d", "--runc-binary", str(wrapper), IMAGE, cid, "sleep", "1000")
    try:
        c.ctr("task", "exec", "--exec-id", "e1", cid, "true")
        c.ctr("task", "pause", cid)
        c.ctr("task", "resume", cid)
        c.ctr("task", "metrics", cid)
        c.ctr("task", "ps", cid)
        c.ctr("task", "kill", "-s", "SIGKILL", cid)
        wait_until(lambda: "STOPPED" in task_line(c, cid), 10)
        c.ctr("task", "delete", cid)
    finally:
        remove(c, cid)
    calls = log.read_text().splitlines()
    print("\n".join(calls))
    cmds = [" ".join(a for a in line.split() if not a.startswith("/"))
            for line in calls]
    joined = "\n".join(calls)
    assert any(" create " in f" {l} " and "--bundle" in l and "--pid-file" in l
               for l in calls), joined
    assert any(" start " in f" {l} " for l in calls), joined
    assert any(" exec " in f" {l} " and "--process" in l for l in calls), joined
    assert any(" pause " in f" {l} " for l in calls), joined
    assert any(" resume " in f" {l} " for l in calls), joined
    assert any(" kill " in f" {l} " for l in calls), joined
    assert any(" delete " in f" {l} " for l in calls), joined
    assert cmds


@pytest.mark.edgecr_only
def test_ctr_run_refused_without_cpu_controller(containerd_any):
    """Without a cpu controller the runtime's clear error (file, field,
    reason) reaches the containerd client, and nothing is left behind."""
    if not NO_CPU:
        pytest.skip(f"this host has a cpu controller ({CG.describe()})")
    c, cid = containerd_any, ctr_id()
    p = c.ctr("run", "--rm", "--runc-binary", RUNTIME, IMAGE, cid, "true",
              check=False)
    try:
        assert p.returncode != 0
        assert "linux.resources.cpu.shares" in p.stderr, p.stderr
        assert "`cpu` cgroup controller is not available" in p.stderr, p.stderr
        assert not task_cgroup_dirs(c, cid)
    finally:
        remove(c, cid)


# ---------------------------------------------------------- config snippet

def doc_snippets():
    """The containerd config.toml blocks users copy: README.md's and
    docs/containerd.md's (the first ```toml block of each)."""
    out = []
    for doc in ("README.md", "docs/containerd.md"):
        text = (REPO / doc).read_text()
        start = text.index("```toml\n") + len("```toml\n")
        out.append(pytest.param(text[start:text.index("```", start)], id=doc))
    return out


@pytest.mark.parametrize("snippet", doc_snippets())
def test_containerd_accepts_documented_snippet(cd_tmp, snippet):
    """The snippet exactly as documented (only BinaryName and Root pointed
    here): containerd 1.6 reads it as a version 2 config (without the
    `version = 2` line it silently takes it for version 1 and ignores every
    table), shows the edgecr runtime in `config dump`, and the CRI plugin
    loads with it."""
    d = Path(tempfile.mkdtemp(prefix="snippet-", dir=cd_tmp))
    assert 'BinaryName = "/usr/local/bin/edgecr"' in snippet
    text = snippet.replace("/usr/local/bin/edgecr", RUNTIME) \
                  .replace('"/run/containerd/edgecr"', f'"{d / "rt-root"}"')
    (d / "cfg.toml").write_text(text)
    dump = subprocess.run([CONTAINERD, "--config", str(d / "cfg.toml"),
                           "config", "dump"], capture_output=True, text=True,
                          timeout=30)
    assert dump.returncode == 0, dump.stderr
    assert f'BinaryName = "{RUNTIME}"' in dump.stdout, \
        "containerd ignored the snippet (is `version = 2` missing?)"
    assert "runtimes.edgecr.options" in dump.stdout
    # start with the CRI plugin on (its CNI/stream server only bind loopback);
    # the daemon's own settings go first, the documented tables after them
    extra = text.replace("version = 2\n", "")
    disabled = [p for p in DISABLED if "cri" not in p]
    cri_extra = extra + f"""
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{d}/cni-bin"
    conf_dir = "{d}/cni-conf"
"""
    c = Containerd(d, extra=cri_extra, disabled=disabled)
    try:
        plugins = c.ctr("plugins", "ls").stdout
        cri = [l for l in plugins.splitlines() if "io.containerd.grpc.v1" in l
               and " cri " in f" {l} "]
        assert cri, plugins
        assert "ok" in cri[0].split(), cri[0] + "\n" + c.logtext()
        assert "edgecr:{Type:io.containerd.runc.v2" in c.logtext()
        assert f"BinaryName:{RUNTIME}" in c.logtext()
    finally:
        c.stop()
