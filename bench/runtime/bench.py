#!/usr/bin/env python3
"""Times `run` of a /bin/true container (create+start+wait+delete) for
several OCI runtimes on one bundle, and prints a table with ratios.

Per run: wall time (spawn to reap), CPU time (user+sys of the runtime and
every process it reaped, i.e. the container too, from wait4's rusage) and
peak RSS (ru_maxrss of the same tree). Peak RSS is the max over all runs.
The runs are forked by a tiny static C helper (spawn.c), because ru_maxrss
counts the forking parent's memory up to execve.

Run it through run-bench.sh, which enters a private mount namespace with
/sys/fs/cgroup/unified unmounted so that crun works on a hybrid host."""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# Reference figures from issue 2 (measured on this machine class).
REFERENCE = {"crun": (15.0, 7.0, 3.4), "runc": (26.0, 19.0, 10.0)}
TARGET = {"cpu_vs_crun": 0.8, "wall_vs_crun": 0.8, "rss_mb": 2.0}


def build_bundle(dest):
    root = dest / "rootfs"
    for d in ("bin", "proc", "sys", "dev", "tmp", "etc"):
        (root / d).mkdir(parents=True, exist_ok=True)
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy2(busybox, root / "bin" / "busybox")
    os.symlink("busybox", root / "bin" / "true")
    os.symlink("busybox", root / "bin" / "sh")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/:/bin/sh\n")
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    cfg = {
        # 1.0.2: crun 1.8 refuses "1.2.0"; every runtime accepts 1.0.2
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0},
                    "args": ["/bin/true"], "env": ["PATH=/bin"], "cwd": "/",
                    "capabilities": {k: caps for k in
                                     ("bounding", "effective", "permitted")},
                    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024,
                                 "soft": 1024}],
                    "noNewPrivileges": True},
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "bench",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "cgroupsPath": "/edgecr-bench/bench",
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in
                           ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/kcore", "/sys/firmware"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
        },
    }
    (dest / "config.json").write_text(json.dumps(cfg, indent=1))


RUN_TIMEOUT = 20  # seconds; a hung runtime is killed and reported


def kill_cgroup_leftovers():
    """After a timeout: kill what sits in the bench cgroup (all of it was
    started by this script)."""
    for procs in Path("/sys/fs/cgroup").glob("*/edgecr-bench/bench/cgroup.procs"):
        for p in procs.read_text().split():
            try:
                os.kill(int(p), signal.SIGKILL)
            except OSError:
                pass


def bench(name, binary, spawn, bundle, tmp, n, warmup):
    state = tmp / f"state-{name}"
    state.mkdir()
    argv = [spawn, str(RUN_TIMEOUT), str(warmup + n), binary, "--root",
            str(state), "run", "--bundle", str(bundle), name + "-{i}"]
    p = subprocess.run(argv, capture_output=True, text=True)
    rows = [l.split() for l in p.stdout.splitlines()]
    for i, row in enumerate(rows):
        if row[0] == "timeout":
            kill_cgroup_leftovers()
            subprocess.run([binary, "--root", str(state), "delete", "--force",
                            f"{name}-{i}"], capture_output=True, timeout=RUN_TIMEOUT)
            return {"error": f"run {i} did not finish in {RUN_TIMEOUT}s (killed)"}
        if row[0] != "0":
            e = subprocess.run([binary, "--root", str(state), "run", "--bundle",
                                str(bundle), f"{name}-err"], capture_output=True,
                               text=True, timeout=RUN_TIMEOUT)
            subprocess.run([binary, "--root", str(state), "delete", "--force",
                            f"{name}-err"], capture_output=True)
            return {"error": f"run {i} exit {row[0]}: {e.stderr.strip()[-300:]}"}
    if len(rows) != warmup + n:
        return {"error": f"spawn helper failed: {p.stderr.strip()}"}
    timed = rows[warmup:]
    walls = sorted(int(r[1]) / 1000.0 for r in timed)
    cpus = [int(r[2]) / 1000.0 for r in timed]
    return {"wall": statistics.median(walls), "wall_p90": walls[int(n * 0.9) - 1],
            "cpu": statistics.median(cpus), "cpu_mean": statistics.mean(cpus),
            "rss": max(int(r[3]) for r in timed) / 1024.0, "n": n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100, help="timed runs per runtime")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--spawn", required=True, help="the compiled spawn.c")
    ap.add_argument("runtimes", nargs="+", help="name=path pairs")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="edgecr-bench-"))
    try:
        bundle = tmp / "bundle"
        bundle.mkdir()
        build_bundle(bundle)
        results = {}
        for spec in args.runtimes:
            name, _, path = spec.partition("=")
            if not path or not os.access(path, os.X_OK):
                results[name] = {"error": f"not found: {path or '(none)'}"}
                continue
            results[name] = bench(name, path, args.spawn, bundle, tmp, args.n,
                                  args.warmup)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        remove_bench_cgroups()
    report(results, args.n)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


def remove_bench_cgroups():
    """The edgecr-bench parent groups the runs leave, where empty."""
    for d in Path("/sys/fs/cgroup").glob("*/edgecr-bench"):
        try:
            os.rmdir(d)
        except OSError:
            pass


def report(results, n):
    print(f"run of a /bin/true container (create+start+wait+delete), "
          f"median of {n} runs; CPU = user+sys of the runtime's process tree; "
          f"RSS = max ru_maxrss")
    print(f"{'runtime':<10}{'wall ms':>10}{'p90 ms':>10}{'CPU ms':>10}"
          f"{'peak RSS MB':>13}   reference (wall/CPU/RSS)")
    for name, r in results.items():
        ref = REFERENCE.get(name)
        refs = f"{ref[0]:.0f} ms / {ref[1]:.0f} ms / {ref[2]} MB" if ref else ""
        if "error" in r:
            print(f"{name:<10}  {r['error']}")
            continue
        print(f"{name:<10}{r['wall']:>10.1f}{r['wall_p90']:>10.1f}{r['cpu']:>10.1f}"
              f"{r['rss']:>13.2f}   {refs}")
    e = results.get("edgecr", {})
    if "error" in e or not e:
        print("\nedgecr: no figures, so no ratios")
        return
    print()
    for other in ("crun", "runc"):
        o = results.get(other, {})
        if "error" in o or not o:
            continue
        print(f"edgecr/{other}: wall {e['wall'] / o['wall']:.2f}x  "
              f"CPU {e['cpu'] / o['cpu']:.2f}x  RSS {e['rss'] / o['rss']:.2f}x")
    c = results.get("crun", {})
    if c and "error" not in c:
        ok = (e["cpu"] <= TARGET["cpu_vs_crun"] * c["cpu"] and
              e["wall"] <= TARGET["wall_vs_crun"] * c["wall"] and
              e["rss"] <= TARGET["rss_mb"])
        print(f"target (<= 0.8x crun CPU and wall, <= 2 MB peak RSS): "
              f"{'MET' if ok else 'NOT MET'}")


if __name__ == "__main__":
    sys.exit(main())
