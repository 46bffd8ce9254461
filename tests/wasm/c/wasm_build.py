"""Helpers shared by the wasm pytest suites (tests/wasm/test_*.py): where the
edgecr binary is, compiling C programs and .wat text to .wasm (cached by
content hash, so repeated runs do not recompile), and running modules with
`edgecr wasm run`."""
import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
C_DIR = Path(__file__).resolve().parent
EDGECR_BIN = os.environ.get("EDGECR_BIN", str(REPO / "build" / "src" / "cli" / "edgecr"))
CACHE = Path(os.environ.get("EDGECR_WASM_CACHE",
                            Path(tempfile.gettempdir()) / f"edgecr-wasm-cache-{os.getuid()}"))

WASM_CFLAGS = ["--target=wasm32-wasi", "-O2"]
NATIVE_CFLAGS = ["-O2", "-fno-tree-vectorize"]


def _cached(kind, inputs, suffix, build):
    """Build once per distinct (kind, inputs): returns the cached output path."""
    h = hashlib.sha256(kind.encode())
    for data in inputs:
        h.update(data if isinstance(data, bytes) else data.encode())
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / f"{h.hexdigest()[:24]}{suffix}"
    if not out.exists():
        tmp = out.with_suffix(out.suffix + f".tmp{os.getpid()}")
        build(tmp)
        os.replace(tmp, out)
    return out


def _run_compiler(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed:\n{r.stderr}")


def compile_wasm(src, extra=()):
    """clang --target=wasm32-wasi -O2 src -> .wasm (cached)."""
    src = Path(src)
    flags = WASM_CFLAGS + list(extra)
    return _cached("wasm " + " ".join(flags), [src.read_bytes()], ".wasm",
                   lambda out: _run_compiler(["clang", *flags, str(src), "-o", str(out), "-lm"]))


def compile_native(src, extra=()):
    """cc -O2 -fno-tree-vectorize src -> native executable (cached)."""
    src = Path(src)
    flags = NATIVE_CFLAGS + list(extra)
    return _cached("native " + " ".join(flags), [src.read_bytes()], ".exe",
                   lambda out: _run_compiler(["cc", *flags, str(src), "-o", str(out), "-lm"]))


def wat2wasm(text, features=()):
    """Assemble WebAssembly text (wabt's wat2wasm) -> .wasm (cached)."""
    def build(out):
        with tempfile.NamedTemporaryFile("w", suffix=".wat", delete=False) as f:
            f.write(text)
        try:
            _run_compiler(["wat2wasm", *features, f.name, "-o", str(out)])
        finally:
            os.unlink(f.name)
    return _cached("wat " + " ".join(features), [text], ".wasm", build)


def run_wasm(module, *args, opts=(), timeout=120, input=None, env=None):
    """`edgecr wasm run [opts] module args...` -> CompletedProcess (text)."""
    cmd = [EDGECR_BIN, "wasm", "run", *map(str, opts), str(module), *map(str, args)]
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          input=input, env=full_env)
