#!/usr/bin/env python3
"""Times `run` (create+start+wait+delete) of a WASI hello-world container
against a Linux /bin/true container with the same bundle settings (the
bundle of bench/runtime, one rootfs holding both), for edgecr and for crun.

crun runs WebAssembly only when built with an engine library (its
--version lists +WASM:...); Debian's is not, so then crun is measured on
the /bin/true bundle only, and the wasm row says why.  Same method as
bench/runtime/bench.py (whose bundle, spawn helper and timing it uses):
wall = spawn to reap, CPU = user+sys of the whole reaped tree, RSS = max
ru_maxrss over the runs.  Targets (issue 10): the WebAssembly container at
most 1.1x the Linux /bin/true container's wall and CPU, at most 2 MB peak
RSS."""
import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "runtime"))
from bench import bench, build_bundle, remove_bench_cgroups  # noqa: E402

HELLO = HERE.parents[1] / "tests" / "wasm" / "c" / "hello.c"
TARGET = {"vs_linux": 1.1, "rss_mb": 2.0}


def wasm_bundle(linux_bundle, dest, module):
    """The Linux bundle's settings, process.args = the module."""
    dest.mkdir()
    os.symlink(linux_bundle / "rootfs", dest / "rootfs")
    cfg = json.loads((linux_bundle / "config.json").read_text())
    cfg = copy.deepcopy(cfg)
    cfg["root"]["path"] = str(linux_bundle / "rootfs")
    cfg["process"]["args"] = ["/hello.wasm"]
    (dest / "config.json").write_text(json.dumps(cfg, indent=1))


def crun_has_wasm(crun):
    try:
        out = subprocess.run([crun, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return False
    return "+WASM" in out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--spawn", required=True)
    ap.add_argument("--edgecr", required=True)
    ap.add_argument("--crun", default=shutil.which("crun") or "/usr/bin/crun")
    ap.add_argument("--json")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="edgecr-bench-wasm-"))
    results = {}
    try:
        linux = tmp / "bundle"
        linux.mkdir()
        build_bundle(linux)
        subprocess.run(["clang", "--target=wasm32-wasi", "-O2", str(HELLO), "-o",
                        str(linux / "rootfs" / "hello.wasm")], check=True)
        wasm = tmp / "bundle-wasm"
        wasm_bundle(linux, wasm, linux / "rootfs" / "hello.wasm")
        runs = [("edgecr wasm", args.edgecr, wasm), ("edgecr linux", args.edgecr, linux)]
        if os.access(args.crun, os.X_OK):
            if crun_has_wasm(args.crun):
                runs.append(("crun wasm", args.crun, wasm))
            else:
                results["crun wasm"] = {"error": "crun is built without a WebAssembly engine (no +WASM)"}
            runs.append(("crun linux", args.crun, linux))
        for name, binary, bundle in runs:
            results[name] = bench(name.replace(" ", "-"), binary, args.spawn, bundle, tmp, args.n, args.warmup)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        remove_bench_cgroups()
    report(results, args.n)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


def report(results, n):
    print(f"run (create+start+wait+delete), median of {n}; CPU = user+sys of the runtime's "
          f"process tree; RSS = max ru_maxrss")
    print(f"{'':<14}{'wall ms':>10}{'p90 ms':>10}{'CPU ms':>10}{'peak RSS MB':>13}")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<14}  {r['error']}")
            continue
        print(f"{name:<14}{r['wall']:>10.2f}{r['wall_p90']:>10.2f}{r['cpu']:>10.2f}{r['rss']:>13.2f}")
    w, l = results.get("edgecr wasm", {}), results.get("edgecr linux", {})
    if "wall" not in w or "wall" not in l:
        return
    print()
    print(f"edgecr wasm / edgecr linux /bin/true: wall {w['wall'] / l['wall']:.2f}x  CPU {w['cpu'] / l['cpu']:.2f}x")
    c = results.get("crun linux", {})
    if "wall" in c:
        print(f"edgecr wasm / crun linux /bin/true:   wall {w['wall'] / c['wall']:.2f}x  CPU {w['cpu'] / c['cpu']:.2f}x")
    ok = (w["wall"] <= TARGET["vs_linux"] * l["wall"] and w["cpu"] <= TARGET["vs_linux"] * l["cpu"]
          and w["rss"] <= TARGET["rss_mb"])
    print(f"target (<= 1.1x the Linux container's wall and CPU, <= 2 MB peak RSS): {'MET' if ok else 'NOT MET'}")


if __name__ == "__main__":
    sys.exit(main())
