"""src/remoteproc (rproc.c) driven through tools/rproc-ctl against the
emulated remote processor: the backend's create+start order (stage under a
unique name, firmware, start, wait running) and the errno of each refusal
turned into a clear message.  rproc-ctl exits with the errno it failed with."""
import errno
import os
import subprocess

import pytest

from rproclib import BUILD, wait_until

CTL = os.environ.get("RPROC_CTL_BIN", str(BUILD / "tools" / "rproc-ctl" / "rproc-ctl"))


@pytest.fixture
def ctl():
    if not os.access(CTL, os.X_OK):
        pytest.skip(f"{CTL} not built (src/remoteproc not in the build yet)")

    def run(emu, *args):
        return subprocess.run([CTL, "--root", str(emu.root), *map(str, args)],
                              capture_output=True, text=True, timeout=30)
    return run


def staged_files(emu):
    d = emu.root / "lib" / "firmware" / "edgecr"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_list_model_state(emulator, ctl):
    emu = emulator("--proc", "m3", "--proc", "m4", "--model", "Test Board rev 1")
    r = ctl(emu, "list")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["remoteproc0 m3 offline", "remoteproc1 m4 offline"]
    assert ctl(emu, "model").stdout == "Test Board rev 1\n"
    assert ctl(emu, "state", "m4").stdout == "offline\n"
    r = ctl(emu, "state", "dsp")
    assert r.returncode == errno.ENOENT
    assert "no remote processor named `dsp`" in r.stderr and "`m3`, `m4`" in r.stderr


def test_boot_busy_stop(emulator, ctl, firmware):
    emu = emulator("--proc", "m3")
    tty = emu.tty(0)
    r = ctl(emu, "boot", "m3", firmware["hello"], "ctr-a")
    assert r.returncode == 0, r.stderr
    staged = r.stdout.strip()
    assert staged.startswith("edgecr/ctr-a-") and staged.endswith(".elf")
    assert emu.read(0, "firmware") == staged + "\n"
    assert emu.state(0) == "running"
    tty.wait_line("says hello")
    # A busy core: the second container's staged file is cleaned up again.
    r = ctl(emu, "boot", "m3", firmware["sampler"], "ctr-b")
    assert r.returncode == errno.EBUSY
    assert "remoteproc0 (`m3`)" in r.stderr and "not offline" in r.stderr
    assert staged_files(emu) == [staged.split("/")[1]]
    r = ctl(emu, "stop", "m3", staged)
    assert r.returncode == 0, r.stderr
    assert emu.state(0) == "offline" and staged_files(emu) == []
    r = ctl(emu, "stop", "m3")
    assert r.returncode == errno.EINVAL and "not running" in r.stderr


def test_refusals_are_explained(emulator, ctl, firmware, tmp_path):
    emu = emulator("--proc", "m3")
    junk = tmp_path / "junk.elf"
    junk.write_bytes(b"not an elf at all")
    r = ctl(emu, "boot", "m3", junk)
    assert r.returncode == errno.EINVAL and "rejected" in r.stderr
    assert emu.state(0) == "offline" and staged_files(emu) == []
    r = ctl(emu, "boot", "m3", tmp_path / "missing.elf")
    assert r.returncode == errno.ENOENT and "missing.elf" in r.stderr


def test_crash_seen_through_the_library(emulator, ctl, firmware):
    emu = emulator("--proc", "m3", "--no-recovery")
    r = ctl(emu, "boot", "m3", firmware["crash"])
    assert r.returncode == 0, r.stderr
    wait_until(lambda: ctl(emu, "state", "m3").stdout == "crashed\n", what="crashed")
    r = ctl(emu, "stop", "m3", r.stdout.strip())
    assert r.returncode == 0, r.stderr
    assert staged_files(emu) == []
