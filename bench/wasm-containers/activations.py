#!/usr/bin/python3
"""Activations of a reactor tenant (docs/tenants.md, "Schedule and
activations"): how late each activation starts after its release, and how
long an activation that spins without end runs before the runtime cuts it
at its budget, under SCHED_FIFO, SCHED_DEADLINE and best effort.

The tenant is tests/wasm_containers/c/reactor.c in mode `measure` (odd
activations print their start time, even ones spin), in a WebAssembly
container with signed metadata, run by `edgecr run`; times are the guest's
own CLOCK_MONOTONIC.  usage (root, clang for wasm32-wasi):
    bench/wasm-containers/activations.py [-n ACTIVATIONS] [--edgecr BIN]"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PERIOD = 10_000_000
SCHEDULES = [("SCHED_FIFO 50", "{priority: 50, period: 10ms, budget: 1ms, deadline: 5ms}"),
             ("SCHED_DEADLINE", "{period: 10ms, budget: 1ms, deadline: 5ms}"),
             ("best effort (cut at the deadline)", "{period: 10ms, deadline: 5ms}")]


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * q))]


def lateness(starts):
    """An activation starts before its deadline (half the period here) or
    its release is skipped, so two starts differ by a whole number of
    periods plus less than half a period: the nearest multiple of the
    period is the releases' difference, the rest the lateness, counted
    from the earliest start."""
    d = [t - starts[0] - round((t - starts[0]) / PERIOD) * PERIOD for t in starts]
    return [(x - min(d)) / 1e3 for x in d]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=400)
    ap.add_argument("--edgecr", default=os.environ.get("EDGECR_BIN", str(REPO / "build/src/cli/edgecr")))
    o = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="edgecr-bench-act."))
    try:
        run = lambda *a, **k: subprocess.run([o.edgecr, *map(str, a)], check=True, capture_output=True, text=True, **k)
        module = work / "reactor.wasm"
        subprocess.run(["clang", "--target=wasm32-wasi", "-mexec-model=reactor", "-O2", "-I", str(REPO / "include"),
                        str(REPO / "tests/wasm_containers/c/reactor.c"), "-o", str(module)], check=True)
        run("meta", "keygen", "--out", work / "keys", "bench")
        trust = work / "trust"
        trust.mkdir()
        shutil.copy(work / "keys/bench.pub", trust)
        print(f"{o.n} activations every 10 ms (deadline 5 ms), every other one spinning (budget 1 ms); microseconds")
        print(f"{'schedule':34} {'late p50':>9} {'p99':>7} {'max':>7} | {'ran p50':>8} {'p99':>7} {'max':>7} | counted")
        for i, (name, sched) in enumerate(SCHEDULES):
            (work / "t.yaml").write_text("id: bench\ntype: wasm\nversion: 1\nexpires: 2099-01-01T00:00:00Z\n"
                                         f"kid: bench\nschedule: {sched}\n")
            b = work / f"b{i}"
            (b / "rootfs").mkdir(parents=True)
            shutil.copy(module, b / "rootfs/app.wasm")
            run("meta", "build", work / "t.yaml", "--module", module, "-o", work / "t.cbor")
            run("meta", "sign", "--key", work / "keys/bench.key", work / "t.cbor", "-o", b / "rootfs/meta.cose")
            (b / "config.json").write_text(json.dumps({
                "ociVersion": "1.2.0", "root": {"path": "rootfs"},
                "process": {"args": ["/app.wasm"], "cwd": "/", "user": {"uid": 0, "gid": 0},
                            "env": ["TENANT_MODE=measure", f"TENANT_MAX={o.n + 1}"]},
                "annotations": {"org.edgecr.tenant.metadata": "/meta.cose"},
                "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}))
            p = subprocess.run([o.edgecr, "--root", str(work / "state"), "run", "--bundle", str(b), f"act{os.getpid()}-{i}"],
                               capture_output=True, text=True, env=dict(os.environ, EDGECR_TRUST_DIR=str(trust)))
            acts = [(int(n), int(t)) for n, t in re.findall(r"^act (\d+) (\d+)$", p.stdout, re.M)]
            ran = [int(x) / 1e3 for x in re.findall(r"^ran (\d+)$", p.stdout, re.M)]
            if p.returncode != 0 or not acts or not ran:
                sys.exit(f"{name}: run failed ({p.returncode}): {p.stderr}")
            late = lateness([t for _, t in acts])
            counted = re.findall(r"(\d+ activations, \d+ overruns, \d+ misses)", p.stderr)[-1]
            print(f"{name:34} {pct(late, .5):9.0f} {pct(late, .99):7.0f} {max(late):7.0f} | {pct(ran, .5):8.0f} "
                  f"{pct(ran, .99):7.0f} {max(ran):7.0f} | {counted}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
