"""Fixtures for the remoteproc suites: the built firmware (session) and
`emulator`, a factory of remoteproc-emu daemons on private roots whose
finalizer stops them and fails the test if a QEMU process, a mount or a tty
link is left behind, or if the daemon wrote to its stderr (emu.log: where
ASan/UBSan reports of a sanitizer build end up)."""
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# tests/lib: helpers shared by the suites (the private containerd)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from rproclib import EMU_BIN, Emulator, build_firmware, mounted, qemu_pids


@pytest.fixture(scope="session")
def firmware():
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("gcc-arm-none-eabi is not installed")
    return build_firmware()


@pytest.fixture
def emulator(firmware):
    if not EMU_BIN.exists():
        pytest.skip(f"{EMU_BIN} not built (needs libfuse3)")
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm is not installed")
    made = []

    def make(*args, install=True, start=True):
        root = Path(tempfile.mkdtemp(prefix="rproc-emu-"))
        emu = Emulator(root, args)
        if install:
            for name, path in firmware.items():
                emu.install(path, f"{name}.elf")
        made.append(emu)
        if start:
            emu.start()
        return emu

    yield make
    problems = []
    for emu in made:
        r = emu.stop()
        if r.returncode != 0 or "leftover" in r.stderr:
            problems.append(f"stop {emu.root}: rc={r.returncode} {r.stderr.strip()}")
        if mounted(emu.root / "sys"):
            problems.append(f"{emu.root}/sys still mounted")
        left = qemu_pids(emu.root)
        if left:
            problems.append(f"QEMU left running: {left}")
        log = emu.run_dir / "emu.log"  # the daemon's stderr: sanitizer reports land here
        if log.exists() and log.read_text().strip():
            problems.append(f"emulator stderr not empty: {log.read_text()[:2000]}")
        links = list((emu.root / "dev").glob("ttyRPMSG*"))
        if links:
            problems.append(f"tty links left: {links}")
        if not problems:
            shutil.rmtree(emu.root, ignore_errors=True)
    assert not problems, "; ".join(problems)
