"""Malformed or invalid config.json and broken bundles: the runtime exits 1
(as runc does), and nothing is created: no state, no cgroup, no process, no
mount.  For edgecr the one error message must also name config.json, the
field path and the reason."""
import subprocess

import pytest

from itlib import (IS_EDGECR, cgroup_dirs_for, mounts_under, pids_with_env,
                   wait_until)

DEL = object()


def setp(cfg, path, value):
    """Set (or delete, with DEL) a dotted path in a config dict."""
    parts = path.split(".")
    d = cfg
    for p in parts[:-1]:
        d = d[p]
    if value is DEL:
        del d[parts[-1]]
    else:
        d[parts[-1]] = value


# name: (mutation path, value, field path edgecr must name, reason words
#        (one of which must appear), whether runc 1.1 rejects it too)
CASES = {
    "args-not-array": ("process.args", "sh", "process.args", ["array"], True),
    "args-empty": ("process.args", [], "process.args", ["empty"], True),
    "uid-string": ("process.user.uid", "0", "process.user.uid",
                   ["integer", "number"], True),
    "no-ociVersion": ("ociVersion", DEL, "ociVersion", ["missing", "required"],
                      False),
    "no-root": ("root", DEL, "root", ["missing", "required"], True),
    "no-root-path": ("root.path", DEL, "root.path", ["missing", "required"],
                     True),
    "no-process": ("process", DEL, "process", ["missing", "required"], True),
    "cwd-relative": ("process.cwd", "relative/dir", "process.cwd",
                     ["absolute"], True),
    "unknown-namespace": ("linux.namespaces", [{"type": "foo"}],
                          "linux.namespaces[0].type", ["unknown", "invalid"],
                          True),
    "duplicate-namespace": ("linux.namespaces", [{"type": "pid"}, {"type": "pid"}],
                            "linux.namespaces", ["duplicate"], True),
    # (an unknown capability name is not an error: ignored with a warning,
    # as runc and crun do; test_hardening_proc.py checks it)
    "bad-rlimit-type": ("process.rlimits",
                        [{"type": "RLIMIT_FOO", "soft": 1, "hard": 1}],
                        "process.rlimits[0].type", ["unknown", "invalid"], True),
    "rlimit-soft-above-hard": ("process.rlimits",
                               [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 10}],
                               "process.rlimits[0]", ["soft", "hard"], True),
    "oom-score-out-of-range": ("process.oomScoreAdj", 5000,
                               "process.oomScoreAdj", ["range", "1000"], True),
    "bad-seccomp-default": ("linux.seccomp", {"defaultAction": "SCMP_ACT_FOO"},
                            "linux.seccomp.defaultAction",
                            ["unknown", "invalid"], True),
    "bad-seccomp-action": ("linux.seccomp",
                           {"defaultAction": "SCMP_ACT_ALLOW",
                            "syscalls": [{"names": ["mkdir"],
                                          "action": "SCMP_ACT_BOGUS"}]},
                           "linux.seccomp.syscalls[0].action",
                           ["unknown", "invalid"], True),
    "bad-seccomp-arch": ("linux.seccomp",
                         {"defaultAction": "SCMP_ACT_ALLOW",
                          "architectures": ["SCMP_ARCH_FOO"]},
                         "linux.seccomp.architectures[0]",
                         ["unknown", "invalid"], True),
    "memory-limit-string": ("linux.resources", {"memory": {"limit": "abc"}},
                            "linux.resources.memory.limit",
                            ["integer", "number"], True),
    "bad-device-type": ("linux.devices",
                        [{"path": "/dev/q", "type": "x", "major": 1, "minor": 3}],
                        "linux.devices[0].type", ["invalid", "unknown"], True),
    "uid-mappings-without-userns": ("linux.uidMappings",
                                    [{"containerID": 0, "hostID": 1000, "size": 1}],
                                    "linux.uidMappings", ["user"], False),
    "hook-relative-path": ("hooks", {"prestart": [{"path": "relative/hook"}]},
                           "hooks.prestart[0].path", ["absolute"], True),
    "sysctl-not-namespaced": ("linux.sysctl", {"no.such.key": "1"},
                              "linux.sysctl", ["no.such.key"], True),
}

# Mount errors: appended after the 7 default mounts, so index 7.
MOUNT_CASES = {
    "unknown-mount-type": ({"destination": "/x", "type": "nosuchfs",
                            "source": "none"}, ["nosuchfs"]),
    "bad-tmpfs-option": ({"destination": "/x", "type": "tmpfs", "source": "tmpfs",
                          "options": ["size=abc"]}, ["size=abc", "invalid"]),
    "bind-source-missing": ({"destination": "/x", "type": "bind",
                             "source": "/nonexistent/src", "options": ["bind"]},
                            ["/nonexistent/src"]),
    "bind-ro-and-rw": ({"destination": "/x", "type": "bind", "source": "/tmp",
                        "options": ["bind", "ro", "rw", "nosuchoption=1",
                                    "rprivate", "rshared"]},
                       ["propagation", "conflict", "nosuchoption"]),
}


def assert_nothing_created(env, rt, b, p):
    assert p.returncode == 1, f"exit {p.returncode}, runc exits 1: {p.stderr}"
    assert rt.state(b.id, check=False) is None, "state exists after failure"
    assert rt("list", "-q").stdout.strip() == ""
    assert not cgroup_dirs_for(b.cgroups_path), "cgroup left"
    assert wait_until(lambda: not pids_with_env(env.tag), 3), "process left"
    assert not mounts_under(env.tmp), "mount left"


def try_create(env, rt, b, raw=None):
    b.write(raw)
    rt.track(b)
    with open(b.stderr_file, "w") as err:
        p = rt("create", "--bundle", b.path, b.id, check=False,
               stdout=subprocess.DEVNULL, stderr=err)
    p.stderr = b.stderr()
    return p


def case_bundle(env, name):
    path, value, *_ = CASES[name]
    b = env.bundle("true")
    setp(b.config, path, value)
    return b


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_config_rejected(env, rt, name):
    if not CASES[name][4] and not IS_EDGECR:
        pytest.skip("runc 1.1 accepts this config (edgecr must reject it)")
    b = case_bundle(env, name)
    p = try_create(env, rt, b)
    assert_nothing_created(env, rt, b, p)


@pytest.mark.edgecr_only
@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_config_message(env, rt, name):
    _, _, field, reasons, _ = CASES[name]
    b = case_bundle(env, name)
    p = try_create(env, rt, b)
    assert p.returncode == 1
    msg = p.stderr
    assert "config.json" in msg, msg
    assert field in msg, f"field {field} not named: {msg}"
    assert any(r.lower() in msg.lower() for r in reasons), \
        f"no reason ({reasons}) in: {msg}"
    # one clear error, printed once
    assert msg.lower().count("config.json") <= 2, msg


@pytest.mark.parametrize("name", sorted(MOUNT_CASES))
def test_invalid_mount_rejected(env, rt, name):
    if name == "bind-ro-and-rw" and not IS_EDGECR:
        pytest.skip("runc 1.1 silently accepts conflicting propagation flags")
    b = env.bundle("true")
    b.add_mount(MOUNT_CASES[name][0])
    p = try_create(env, rt, b)
    assert_nothing_created(env, rt, b, p)


@pytest.mark.edgecr_only
@pytest.mark.parametrize("name", sorted(MOUNT_CASES))
def test_invalid_mount_message(env, rt, name):
    b = env.bundle("true")
    b.add_mount(MOUNT_CASES[name][0])
    p = try_create(env, rt, b)
    assert p.returncode == 1
    assert "mounts[7]" in p.stderr, p.stderr
    assert any(r in p.stderr for r in MOUNT_CASES[name][1]), p.stderr


RAW = {
    "invalid-json": ('{"ociVersion": "1.2.0", "process": {', ["json", "parse"]),
    "empty-file": ("", ["json", "empty", "parse"]),
    "top-level-array": ("[]", ["object"]),
    "trailing-garbage": ('{"ociVersion": "1.2.0"} xx', ["json", "parse"]),
}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.sanitizer) if n == "invalid-json" else n
    for n in sorted(RAW)])
def test_unparseable_config(env, rt, name):
    b = env.bundle("true")
    p = try_create(env, rt, b, raw=RAW[name][0])
    assert_nothing_created(env, rt, b, p)


@pytest.mark.edgecr_only
@pytest.mark.parametrize("name", sorted(RAW))
def test_unparseable_config_message(env, rt, name):
    b = env.bundle("true")
    p = try_create(env, rt, b, raw=RAW[name][0])
    assert "config.json" in p.stderr
    assert any(r in p.stderr.lower() for r in RAW[name][1]), p.stderr


@pytest.mark.edgecr_only
def test_invalid_json_message_has_position(env, rt):
    b = env.bundle("true")
    p = try_create(env, rt, b, raw='{\n  "ociVersion": "1.2.0",\n  "process": [,\n}')
    assert "config.json" in p.stderr
    assert "line 3" in p.stderr or ":3:" in p.stderr, p.stderr


def test_run_invalid_config_nothing_created(env, rt):
    b = case_bundle(env, "unknown-namespace")
    p = rt.run(b)
    assert_nothing_created(env, rt, b, p)


def test_missing_bundle(env, rt):
    missing = env.tmp / "no-such-bundle"
    with open(env.tmp / "err", "w") as err:
        p = rt("create", "--bundle", missing, "mb1", check=False,
               stdout=subprocess.DEVNULL, stderr=err)
    rt.track("mb1")
    assert p.returncode == 1
    assert rt.state("mb1", check=False) is None
    assert not missing.exists()


def test_missing_config_json(env, rt):
    b = env.bundle("true")
    (b.path / "config.json").unlink()
    rt.track(b)
    with open(b.stderr_file, "w") as err:
        p = rt("create", "--bundle", b.path, b.id, check=False,
               stdout=subprocess.DEVNULL, stderr=err)
    assert p.returncode == 1
    assert rt.state(b.id, check=False) is None
    if IS_EDGECR:
        assert "config.json" in b.stderr()


def test_missing_rootfs(env, rt):
    b = env.bundle("true")
    b.config["root"]["path"] = "no-rootfs-here"
    p = try_create(env, rt, b)
    assert_nothing_created(env, rt, b, p)
    if IS_EDGECR:
        assert "root.path" in p.stderr and "no-rootfs-here" in p.stderr


@pytest.mark.sanitizer
def test_missing_executable(env, rt):
    """args[0] not found: runc fails at create; failing at start is also
    acceptable, but then nothing may be left after delete."""
    b = env.bundle("/no/such/binary")
    p = try_create(env, rt, b)
    if p.returncode == 0:
        s = rt.start(b.id, check=False)
        assert s.returncode != 0
        rt.delete(b.id, force=True)
    else:
        assert_nothing_created(env, rt, b, p)
    if IS_EDGECR:
        assert "/no/such/binary" in p.stderr


def test_missing_executable_in_path(env, rt):
    b = env.bundle("nosuchcommand")
    p = rt.run(b)
    assert p.returncode != 0
    assert rt.state(b.id, check=False) is None
    assert not cgroup_dirs_for(b.cgroups_path)


def test_cwd_not_a_directory(env, rt):
    b = env.bundle("true")
    b.config["process"]["cwd"] = "/etc/passwd"
    p = try_create(env, rt, b)
    assert_nothing_created(env, rt, b, p)


def test_user_without_permission_to_exec(env, rt):
    b = env.bundle("/bin/secret")
    (b.rootfs / "bin" / "secret").write_text("#!/bin/sh\necho no\n")
    (b.rootfs / "bin" / "secret").chmod(0o700)
    b.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    p = rt.run(b)
    assert p.returncode != 0
    assert "no" not in p.stdout
    assert rt.state(b.id, check=False) is None
