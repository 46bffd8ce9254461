"""The emulated remote processor (tools/remoteproc-emu) against the kernel's
remoteproc sysfs semantics: layout and values, every errno rule, firmware
lookup, booting real firmware under QEMU with its UART on the ttyRPMSG pty,
crash and recovery, several processors, and clean start/stop of the emulator
itself.  See docs/remoteproc.md."""
import errno
import os
import stat
import signal
import subprocess

from rproclib import EMU_BIN, mounted, pid_alive, qemu_pids, wait_until, write_attr

ATTRS = ["name", "firmware", "state", "recovery", "coredump"]


def test_layout_and_initial_values(emulator):
    emu = emulator("--proc", "m3-left", "--proc", "m3-right:mps2-an385:cortex-m3")
    cls = emu.root / "sys" / "class" / "remoteproc"
    assert sorted(os.listdir(cls)) == ["remoteproc0", "remoteproc1"]
    for n, name in ((0, "m3-left"), (1, "m3-right")):
        assert sorted(os.listdir(emu.rp(n))) == sorted(ATTRS)
        # Values exactly as the kernel's show() prints them: one trailing newline.
        assert emu.read(n, "name") == f"{name}\n"
        assert emu.read(n, "firmware") == f"rproc-{name}-fw\n"
        assert emu.read(n, "state") == "offline\n"
        assert emu.read(n, "recovery") == "enabled\n"
        assert emu.read(n, "coredump") == "enabled\n"
        modes = {a: stat.S_IMODE(os.stat(emu.rp(n) / a).st_mode) for a in ATTRS}
        assert modes == {"name": 0o444, "firmware": 0o644, "state": 0o644,
                         "recovery": 0o644, "coredump": 0o644}
        link = emu.root / "dev" / f"ttyRPMSG{n}"
        assert os.readlink(link).startswith("/dev/pts/")
    # No devicetree without --model.
    assert not (emu.root / "sys" / "firmware").exists()
    assert not (emu.root / "proc" / "device-tree").exists()


def test_devicetree_model(emulator):
    emu = emulator("--model", "Arm MPS2 AN385 (edgecr emulation)")
    want = b"Arm MPS2 AN385 (edgecr emulation)\0"  # a devicetree string property
    assert (emu.root / "sys/firmware/devicetree/base/model").read_bytes() == want
    assert (emu.root / "proc/device-tree/model").read_bytes() == want
    assert write_attr(emu.root / "proc/device-tree/model", "x") == errno.EACCES


def test_errno_rules(emulator, firmware):
    emu = emulator()
    (emu.root / "lib/firmware/not-elf.bin").write_bytes(b"just some bytes, not an ELF image")
    # Offline.
    assert emu.write(0, "state", "stop") == errno.EINVAL
    assert emu.write(0, "state", "start") == errno.ENOENT  # rproc-cm3-0-fw is absent
    assert emu.state(0) == "offline"
    assert emu.write(0, "state", "reboot") == errno.EINVAL
    assert emu.write(0, "state", "detach") == errno.EINVAL
    assert emu.write(0, "firmware", "\n") == errno.EINVAL  # empty name
    assert emu.write(0, "firmware", "not-elf.bin") == 0
    assert emu.write(0, "state", "start") == errno.EINVAL  # rproc_elf_sanity_check
    assert emu.write(0, "firmware", "../escape.elf") == 0
    assert emu.write(0, "state", "start") == errno.ENOENT
    assert emu.write(0, "recovery", "maybe") == errno.EINVAL
    assert emu.write(0, "coredump", "sometimes") == errno.EINVAL
    assert emu.write(0, "name", "renamed") == errno.EACCES
    # The firmware name takes the text up to the first newline.
    assert emu.write(0, "firmware", "hello.elf\nignored") == 0
    assert emu.read(0, "firmware") == "hello.elf\n"
    # Running.
    assert emu.write(0, "state", "start\n") == 0
    assert emu.state(0) == "running"
    assert emu.write(0, "state", "start") == errno.EBUSY
    assert emu.write(0, "firmware", "sampler.elf") == errno.EBUSY
    assert emu.read(0, "firmware") == "hello.elf\n"
    assert emu.write(0, "state", "bogus") == errno.EINVAL
    # coredump and recovery may change while running.
    for value in ("disabled", "inline", "enabled"):
        assert emu.write(0, "coredump", value + "\n") == 0
        assert emu.read(0, "coredump") == value + "\n"
    assert emu.write(0, "recovery", "disabled") == 0
    assert emu.read(0, "recovery") == "disabled\n"
    assert emu.write(0, "recovery", "recover") == 0  # no-op unless crashed
    assert emu.state(0) == "running"
    assert emu.write(0, "state", "stop") == 0
    assert emu.state(0) == "offline"
    assert emu.write(0, "state", "stop") == errno.EINVAL


def test_start_uart_and_stop(emulator):
    emu = emulator()
    tty = emu.tty(0)
    emu.boot(0, "hello.elf")
    pid = emu.qemu_pid(0)
    assert pid and pid_alive(pid)
    assert "says hello" in tty.wait_line("hello:", timeout=10)
    tty.wait_line("heartbeat 1 ")
    tty.wait_line("heartbeat 2 ")
    # The pty is two-way: the firmware echoes what it receives on its UART.
    tty.write("ping from linux\n")
    tty.wait_line("echo: ping from linux")
    assert emu.write(0, "state", "stop") == 0
    assert emu.state(0) == "offline"
    assert not pid_alive(pid)
    assert qemu_pids(emu.root) == []
    assert emu.qemu_pid(0) is None
    # A second boot starts with an empty tty (nothing of the first run).
    emu.boot(0, "sampler.elf")
    assert tty.wait_line(lambda l: l.startswith(("hello:", "sampler:"))).startswith("sampler: start")
    tty.wait_line("sampler: seq=2 ")
    assert emu.write(0, "state", "stop") == 0


def test_firmware_lookup_order(emulator, firmware):
    emu = emulator("--kernel-release", "6.1.0-test", "--firmware-path", "/opt/fw",
                   install=False)
    emu.install(firmware["hello"], "fw.elf", "lib/firmware")
    tty = emu.tty(0)

    def boot_and_banner():
        emu.boot(0, "fw.elf")
        line = tty.wait_line(lambda l: l.startswith(("hello:", "sampler:", "crash:")))
        assert emu.write(0, "state", "stop") == 0
        return line.split(":")[0]

    assert boot_and_banner() == "hello"
    emu.install(firmware["sampler"], "fw.elf", "lib/firmware/6.1.0-test")
    assert boot_and_banner() == "sampler"
    emu.install(firmware["hello"], "fw.elf", "lib/firmware/updates")
    assert boot_and_banner() == "hello"
    emu.install(firmware["sampler"], "fw.elf", "lib/firmware/updates/6.1.0-test")
    assert boot_and_banner() == "sampler"
    emu.install(firmware["crash"], "fw.elf", "opt/fw")  # firmware_class.path comes first
    assert boot_and_banner() == "crash"
    # Names may have subdirectories (where the runtime stages its files).
    emu.install(firmware["hello"], "edgecr/one-container.elf")
    emu.boot(0, "edgecr/one-container.elf")
    tty.wait_line("hello:")
    assert emu.write(0, "state", "stop") == 0


def test_crash_without_recovery_stays_crashed(emulator):
    emu = emulator("--no-recovery")
    assert emu.read(0, "recovery") == "disabled\n"
    tty = emu.tty(0)
    emu.boot(0, "crash.elf")
    tty.wait_line("crash: boot")
    tty.wait_line("HardFault: pc=")
    tty.wait_line(lambda l: l.startswith("rproc-crash: HardFault"))
    emu.wait_state(0, "crashed")
    assert qemu_pids(emu.root) == []
    assert emu.count_events(0, "crashed exit=1") == 1
    # Crashed: configuration is locked, start is the kernel's silent no-op.
    assert emu.write(0, "coredump", "disabled") == errno.EBUSY
    assert emu.write(0, "firmware", "hello.elf") == errno.EBUSY
    assert emu.write(0, "state", "start") == 0
    assert emu.state(0) == "crashed"
    assert emu.count_events(0, "running") == 1
    # Manual recovery reboots it (and it crashes again).
    assert emu.write(0, "recovery", "recover") == 0
    tty.wait_line("crash: boot")
    wait_until(lambda: emu.count_events(0, "crashed") == 2, what="second crash")
    emu.wait_state(0, "crashed")
    # stop takes a crashed core offline.
    assert emu.write(0, "state", "stop") == 0
    assert emu.state(0) == "offline"
    assert emu.write(0, "coredump", "inline") == 0


def test_crash_with_recovery_reboots(emulator):
    emu = emulator()
    tty = emu.tty(0)
    emu.boot(0, "crash.elf")
    for _ in range(3):
        tty.wait_line("crash: boot")
        tty.wait_line("rproc-crash:")
    wait_until(lambda: emu.count_events(0, "recovering") >= 2, what="two recoveries")
    assert emu.count_events(0, "running") >= 3
    assert emu.state(0) in ("running", "crashed")
    # Disabling recovery lets it settle in crashed.
    assert emu.write(0, "recovery", "disabled") == 0
    emu.wait_state(0, "crashed")
    # Enabling it again on a crashed core reboots it at once.
    boots = emu.count_events(0, "running")
    assert emu.write(0, "recovery", "enabled") == 0
    wait_until(lambda: emu.count_events(0, "running") > boots, what="reboot on enable")
    assert emu.write(0, "state", "stop") == 0
    assert emu.state(0) == "offline"
    assert qemu_pids(emu.root) == []


def test_qemu_killed_means_crashed(emulator):
    emu = emulator("--no-recovery")
    emu.boot(0, "hello.elf")
    os.kill(emu.qemu_pid(0), signal.SIGKILL)
    emu.wait_state(0, "crashed")
    assert emu.count_events(0, "crashed signal=9") == 1


def test_several_processors(emulator):
    emu = emulator("--procs", "3", "--model", "edgecr multi-core test board")
    ttys = [emu.tty(n) for n in range(3)]
    fws = ["hello", "sampler", "hello"]
    for n, fw in enumerate(fws):
        emu.boot(n, f"{fw}.elf")
    pids = [emu.qemu_pid(n) for n in range(3)]
    assert len(set(pids)) == 3 and all(pid_alive(p) for p in pids)
    for n, fw in enumerate(fws):
        assert ttys[n].wait_line(lambda l: ":" in l).startswith(fw + ":")
    # Stopping one leaves the others running.
    assert emu.write(1, "state", "stop") == 0
    assert [emu.state(n) for n in range(3)] == ["running", "offline", "running"]
    assert not pid_alive(pids[1]) and pid_alive(pids[0]) and pid_alive(pids[2])
    ttys[2].wait_line("heartbeat")
    assert sorted(qemu_pids(emu.root)) == sorted([pids[0], pids[2]])


def test_icount_is_passed_to_qemu(emulator):
    emu = emulator("--icount", "3")
    tty = emu.tty(0)
    emu.boot(0, "sampler.elf")
    cmdline = open(f"/proc/{emu.qemu_pid(0)}/cmdline", "rb").read().split(b"\0")
    assert b"-icount" in cmdline and b"shift=3" in cmdline
    tty.wait_line("sampler: seq=1 t_ms=100 ")


def test_emulator_stop_leaves_nothing(emulator):
    emu = emulator("--procs", "2", "--model", "x")
    emu.boot(0, "hello.elf")
    emu.boot(1, "sampler.elf")
    pids = [emu.qemu_pid(0), emu.qemu_pid(1)]
    daemon = emu.daemon_pid()
    r = emu.stop()
    assert r.returncode == 0 and r.stderr == ""  # nothing to sweep: it cleaned itself
    assert not pid_alive(daemon)
    assert not any(pid_alive(p) for p in pids)
    assert not mounted(emu.root / "sys")
    assert list((emu.root / "dev").iterdir()) == []
    assert not (emu.root / "run/remoteproc-emu/pid").exists()
    assert not (emu.root / "proc/device-tree").exists()
    # The root can be used again.
    emu.start()
    assert emu.state(0) == "offline"


def test_stop_after_sigkill_sweeps(emulator):
    emu = emulator("--procs", "2")
    emu.boot(0, "hello.elf")
    emu.boot(1, "hello.elf")
    os.kill(emu.daemon_pid(), signal.SIGKILL)
    # QEMU dies with its parent (PR_SET_PDEATHSIG); the mount stays behind.
    wait_until(lambda: qemu_pids(emu.root) == [], what="QEMU to die with the emulator")
    assert mounted(emu.root / "sys")
    r = emu.stop()
    assert r.returncode == 0 and "leftover" in r.stderr
    assert not mounted(emu.root / "sys")
    assert list((emu.root / "dev").iterdir()) == []


def test_start_refuses_a_second_instance_and_bad_options(emulator, tmp_path):
    emu = emulator()
    r = emu.start(check=False)
    assert r.returncode == 1 and "already" in r.stderr
    assert emu.state(0) == "offline"
    for bad in (["--procs", "0"], ["--proc", ":mps2-an385"], ["--icount", "x"], []):
        args = [str(EMU_BIN), "start"] + (["--root", str(tmp_path / "r")] if bad else []) + bad
        r = subprocess.run(args, capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, (bad, r.stderr)
        assert not mounted(tmp_path / "r" / "sys")
