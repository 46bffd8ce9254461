"""pytest wiring for the integration suite: markers (edgecr_only, sanitizer,
slow, containerd), automatic skipping of edgecr-only tests for other
runtimes, a per-test SIGALRM watchdog, and the fixtures (`env`, `rt`,
`console_socket`) built on itlib.py.

Every test that uses `env` gets a private tmp dir and --root state dir; its
finalizer force-deletes every container the test made and fails the test if
anything leaked (processes, cgroup dirs, host mounts, fds, state entries).
"""
import os
import shutil
import sys
import signal
import tempfile
import uuid
from pathlib import Path

import pytest

# tests/lib: helpers shared by the suites (the private containerd)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from itlib import (CGROUP_PARENT, RUNTIME, RUNTIME_NAME, IS_EDGECR, IS_RUNC,
                   TEST_TIMEOUT, ConsoleSocket, Env, Runtime, _assert_no_leaks,
                   _build_rootfs, _force_clean, cgroup_mounts, pids_with_env,
                   wait_until)

# --------------------------------------------------------------------------
# markers, skipping, watchdog

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "edgecr_only: checks edgecr-specific behaviour; skipped "
        "unless the binary under test is edgecr")
    config.addinivalue_line(
        "markers", "sanitizer: fast representative subset that also runs "
        "against the ASan/UBSan build")
    config.addinivalue_line(
        "markers", "slow: soak-like test (200 cycles, 20 containers)")
    config.addinivalue_line(
        "markers", "containerd: needs containerd and ctr")
    config.addinivalue_line(
        "markers", "spec12: OCI 1.2 feature missing from runc < 1.2 (Debian's "
        "runc 1.1.5): skipped against such a runc unless "
        "EDGECR_RUN_SPEC12=1")


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(
        reason=f"edgecr-only behaviour; binary under test is {RUNTIME_NAME}")
    old_runc = IS_RUNC and runc_older_than_1_2() and \
        os.environ.get("EDGECR_RUN_SPEC12") != "1"
    skip12 = pytest.mark.skip(
        reason="OCI 1.2 feature that runc < 1.2 does not implement")
    for item in items:
        if "edgecr_only" in item.keywords and not IS_EDGECR:
            item.add_marker(skip)
        if "spec12" in item.keywords and old_runc:
            item.add_marker(skip12)


def runc_older_than_1_2():
    import re
    import subprocess
    out = subprocess.run([RUNTIME, "--version"], capture_output=True,
                         text=True).stdout
    m = re.search(r"version (\d+)\.(\d+)", out)
    return bool(m) and (int(m.group(1)), int(m.group(2))) < (1, 2)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    def on_alarm(signum, frame):
        raise TimeoutError(f"test exceeded {TEST_TIMEOUT}s watchdog")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="session")
def session_tmp():
    d = tempfile.mkdtemp(prefix="edgecr-it-")
    os.chmod(d, 0o755)  # user-namespaced containers must reach their rootfs
    yield Path(d)
    # Test dirs are removed by their own finalizers; only leftovers remain.
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def rootfs_template(session_tmp):
    return _build_rootfs(session_tmp / "rootfs-template")


@pytest.fixture(autouse=True)
def _require_binary():
    # Fail (not skip, not exit): a missing runtime must count as failures.
    if not os.access(RUNTIME, os.X_OK):
        pytest.fail(f"runtime binary {RUNTIME} is not executable: build it "
                    f"or set EDGECR_BIN")


@pytest.fixture(scope="session", autouse=True)
def _remove_parent_cgroups():
    yield
    # Remove the shared parent cgroup dirs when empty.
    for mnt in cgroup_mounts():
        try:
            os.rmdir(Path(mnt, CGROUP_PARENT))
        except OSError:
            pass


@pytest.fixture
def env(request, session_tmp, rootfs_template):
    tag = uuid.uuid4().hex
    tmp = Path(tempfile.mkdtemp(prefix="t-", dir=session_tmp))
    os.chmod(tmp, 0o755)
    state_root = tmp / "state"
    state_root.mkdir()
    rt = Runtime(RUNTIME, state_root, tmp, tag)
    e = Env(tmp, rootfs_template, rt, tag)
    yield e
    rt.cleanup()
    # Processes may take a moment to be reaped after delete --force.
    wait_until(lambda: not pids_with_env(tag), 5)
    problems, left = _assert_no_leaks(e, rt, None)
    if problems:
        _force_clean(e, rt, left)
    shutil.rmtree(tmp, ignore_errors=True)
    if problems:
        pytest.fail("leak after cleanup:\n  " + "\n  ".join(problems))


@pytest.fixture
def rt(env):
    return env.rt


# --------------------------------------------------------------------------
# console socket (receives the pty master over SCM_RIGHTS)
@pytest.fixture
def console_socket(env):
    socks = []

    def make():
        s = ConsoleSocket(env.tmp / f"console-{len(socks)}.sock")
        socks.append(s)
        return s
    yield make
    for s in socks:
        s.close()
