"""Helpers shared by the plan test modules (a uniquely named module, so
that it cannot collide with other suites' conftest.py when pytest runs the
whole tests/ tree)."""
import json
import os
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
# tests/lib: kernel and cgroup layout probes shared by the suites
sys.path.insert(0, str(REPO / "tests" / "lib"))
EXAMPLES = REPO / "examples" / "plans"
CELL = ["motor-ctl", "sensor", "planner", "vision", "logger", "webui"]


def edgecr_bin():
    return os.environ.get("EDGECR_BIN", str(REPO / "build" / "src" / "cli" / "edgecr"))


def make_bundles(base, names, size=150_000):
    """Minimal bundle directories with one random binary each."""
    for name in names:
        b = base / "bundles" / name
        (b / "rootfs" / "bin").mkdir(parents=True, exist_ok=True)
        (b / "config.json").write_text(json.dumps({"ociVersion": "1.2.0", "process": {"args": [f"/bin/{name}"]}}))
        (b / "rootfs" / "bin" / name).write_bytes(os.urandom(size))
