"""WASI preview 1 and `edgecr wasm run`, end to end: C programs from
tests/wasm/c/ compiled with clang --target=wasm32-wasi at test time, and small
.wat modules for what C cannot express (raw WASI calls with hostile pointers,
wrong import types, --invoke).  Each runs through `$EDGECR_BIN wasm run`.

Exit statuses checked here (docs/wasi.md): the module's exit code; 124 out
of fuel; 125 edgecr could not run the module; 134 the module trapped.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "c"))
from wasm_build import (C_DIR, EDGECR_BIN, compile_native, compile_wasm, run_wasm,  # noqa: E402
                        wat2wasm)

EXIT_OUT_OF_FUEL = 124
EXIT_RUN_ERROR = 125
EXIT_TRAP = 134

RESOLVERS = ["openat2", "walk"]


def prog(name):
    return compile_wasm(C_DIR / f"{name}.c")


def ok(r):
    assert r.returncode == 0, f"rc={r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


# ---------------------------------------------------------------- basics

def test_hello():
    r = ok(run_wasm(prog("hello")))
    assert r.stdout == "hello from wasm\n"


def test_args_and_env_round_trip():
    module = prog("args_env")
    r = ok(run_wasm(module, "first arg", "", "ünïcödé",
                    opts=["--env", "EDGECR_TEST=42", "--env", "EMPTY=", "--env=X=a=b"]))
    lines = r.stdout.splitlines()
    assert lines[0] == "argc=4"
    assert lines[1] == f"argv[0]={module}"
    assert lines[2:5] == ["argv[1]=first arg", "argv[2]=", "argv[3]=ünïcödé"]
    env = [l[4:] for l in lines if l.startswith("env:")]
    assert env == ["EDGECR_TEST=42", "EMPTY=", "X=a=b"]   # nothing leaks from the host
    assert lines[-1] == "getenv=42"


def test_env_copied_from_host_only_when_asked():
    r = ok(run_wasm(prog("args_env"), opts=["--env", "EDGECR_FROM_HOST"],
                    env={"EDGECR_FROM_HOST": "yes", "EDGECR_NOT_ASKED": "no"}))
    assert "env:EDGECR_FROM_HOST=yes" in r.stdout
    assert "EDGECR_NOT_ASKED" not in r.stdout


@pytest.mark.parametrize("code", [0, 1, 3, 42, 255])
def test_exit_code_from_proc_exit(code):
    r = run_wasm(prog("exitcode"), code)
    assert r.returncode == code, r.stderr
    assert r.stdout == f"exiting with {code}\n"


def test_exit_code_from_start_function():
    wat = """(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func $s (call $exit (i32.const 9))) (start $s)
      (func (export "_start") unreachable))"""
    r = run_wasm(wat2wasm(wat))
    assert r.returncode == 9, r.stderr


def test_exit_code_above_255_saturates():
    wat = """(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start") (call $exit (i32.const 256))))"""
    r = run_wasm(wat2wasm(wat))
    assert r.returncode == 255, r.stderr


def test_exit_code_from_main_return():
    r = run_wasm(prog("exitcode"))
    assert r.returncode == 7, r.stderr


def test_stdin_stdout_stderr():
    data = bytes(range(256)) * 40 + b"tail"
    r = subprocess.run([EDGECR_BIN, "wasm", "run", str(prog("stdin_echo"))], input=data,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    s = 0
    for b in data:
        s = (s * 31 + b) % (1 << 64)
    assert r.stdout.decode() == f"bytes={len(data)} sum={s}\n"
    assert r.stderr.decode() == "to stderr\n"


def test_poll_stdin_ready():
    r = ok(run_wasm(prog("pollfd"), 5000, input="ping\n"))
    assert r.stdout.startswith("n=1 readable=1 ")
    assert r.stdout.endswith("read=ping\n")


def test_poll_stdin_times_out():
    rd, wr = os.pipe()          # stdin stays open and empty: poll must time out
    try:
        p = subprocess.run([EDGECR_BIN, "wasm", "run", str(prog("pollfd")), "150"], stdin=rd,
                           capture_output=True, text=True, timeout=60)
    finally:
        os.close(rd)
        os.close(wr)
    assert p.returncode == 0, p.stderr
    n, readable, waited = p.stdout.split()
    assert (n, readable) == ("n=0", "readable=0")
    assert 140 <= int(waited.split("=")[1]) < 5000


# ---------------------------------------------------------------- files

@pytest.mark.parametrize("resolver", RESOLVERS)
def test_file_io_inside_preopen(tmp_path, resolver):
    box = tmp_path / "box"
    box.mkdir()
    (box / "from_host.txt").write_text("hi from the host\n")
    r = ok(run_wasm(prog("fileio"), opts=["--dir", f"{box}:/data"],
                    env={"EDGECR_WASI_RESOLVE": resolver}))
    assert "FAIL" not in r.stdout, r.stdout
    assert "size=8890 regular=1" in r.stdout
    assert "host says: hi from the host" in r.stdout
    assert r.stdout.rstrip().endswith("failures=0")
    # The guest's writes are visible on the host, its deletions too.
    note = (box / "sub" / "note.txt").read_text().splitlines()
    assert len(note) == 1000 and note[-1] == "line 999"
    assert sorted(p.name for p in (box / "sub").iterdir()) == ["note.txt"]


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_readdir_many_entries(tmp_path, resolver):
    r = ok(run_wasm(prog("manyfiles"), 700, opts=["--dir", f"{tmp_path}:/data"],
                    env={"EDGECR_WASI_RESOLVE": resolver}))
    assert r.stdout == "listed 700 then 700 of 700\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("guest", [None, "/data", "/", "."])
def test_preopen_guest_names(tmp_path, guest):
    (tmp_path / "from_host.txt").write_text("content\n")
    spec = str(tmp_path) if guest is None else f"{tmp_path}:{guest}"
    base = {None: str(tmp_path), "/data": "/data", "/": "", ".": "."}[guest]
    r = run_wasm(prog("cat"), f"{base}/from_host.txt", opts=["--dir", spec])
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "content\n"


def test_no_preopen_no_files(tmp_path):
    (tmp_path / "f").write_text("x")
    r = run_wasm(prog("cat"), f"{tmp_path}/f", "/etc/passwd")
    assert r.returncode == 2
    assert "root:" not in r.stdout


def make_escape_tree(tmp_path):
    outside = tmp_path / "outside"
    box = outside / "box"
    (box / "sub").mkdir(parents=True)
    secret = outside / "secret.txt"
    secret.write_text("TOP SECRET\n")
    (box / "inside.txt").write_text("inside\n")
    os.symlink("../secret.txt", box / "link_out")
    os.symlink(str(secret), box / "link_abs")
    os.symlink("link_out", box / "link_chain")
    os.symlink("..", box / "link_dir")
    os.symlink("sub/../inside.txt", box / "link_in")      # stays inside: allowed
    os.symlink("loop_b", box / "loop_a")
    os.symlink("loop_a", box / "loop_b")
    return outside, box, secret


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_preopen_escapes_fail(tmp_path, resolver):
    outside, box, secret = make_escape_tree(tmp_path)
    before = sorted(p.name for p in outside.iterdir())
    r = run_wasm(prog("escape"), secret, opts=["--dir", f"{box}:/data"],
                 env={"EDGECR_WASI_RESOLVE": resolver})
    assert "ESCAPED" not in r.stdout, r.stdout
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    assert "inside via ..: ok" in r.stdout
    count = int(r.stdout.split("contained ")[1].split()[0])
    assert count >= 20
    assert "denied open /data/link_in" not in r.stdout
    # Nothing was created, moved or removed outside the preopen.
    assert sorted(p.name for p in outside.iterdir()) == before
    assert secret.read_text() == "TOP SECRET\n"
    assert (box / "inside.txt").exists()


# Raw WASI calls, to reach the host with paths and pointers that wasi-libc
# would never pass: path_open(fd 3, follow, $PATH) and exit with its errno.
PATH_OPEN_WAT = """
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "$PATH")
  (func (export "_start")
    (call $exit (call $path_open (i32.const 3) (i32.const 1) (i32.const 16)
      (i32.const $LEN) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0)
      (i32.const 8)))))
"""

WASI_ENOENT, WASI_EFAULT, WASI_ENOTCAPABLE, WASI_EILSEQ = 44, 21, 76, 25
WASI_ELOOP, WASI_ENAMETOOLONG, WASI_ENOTDIR = 32, 37, 54


def path_open_module(path):
    return wat2wasm(PATH_OPEN_WAT.replace("$PATH", path.replace('"', '\\"'))
                    .replace("$LEN", str(len(path.encode()))))


@pytest.mark.parametrize("resolver", RESOLVERS)
@pytest.mark.parametrize("path,errno", [
    ("/etc/passwd", WASI_ENOTCAPABLE),
    ("../secret.txt", WASI_ENOTCAPABLE),
    ("sub/../../secret.txt", WASI_ENOTCAPABLE),
    ("link_out", WASI_ENOTCAPABLE),
    ("link_abs", WASI_ENOTCAPABLE),
    ("link_chain", WASI_ENOTCAPABLE),
    ("link_dir/secret.txt", WASI_ENOTCAPABLE),
    ("nothing_here", WASI_ENOENT),
    ("loop_a", WASI_ELOOP),
    ("inside.txt/", WASI_ENOTDIR),
    ("x" * 300, WASI_ENAMETOOLONG),
    ("sub/" * 1100 + "x", WASI_ENAMETOOLONG),
    ("inside.txt", 0),
    ("sub/../inside.txt", 0),
    ("./sub/./../inside.txt", 0),
    ("link_in", 0),
    ("sub//..//inside.txt", 0),
], ids=lambda v: str(v)[:24])
def test_raw_path_open_escapes(tmp_path, resolver, path, errno):
    _, box, _ = make_escape_tree(tmp_path)
    r = run_wasm(path_open_module(path), opts=["--dir", f"{box}:/data"],
                 env={"EDGECR_WASI_RESOLVE": resolver})
    assert r.returncode == errno, f"{path[:80]}: {r.stderr}"


def test_raw_path_with_nul_byte(tmp_path):
    r = run_wasm(path_open_module("inside.txt\\00x"), opts=["--dir", f"{tmp_path}:/data"])
    assert r.returncode == WASI_EILSEQ, r.stderr


# ---------------------------------------------------------------- standard streams

# Every way a directory descriptor could be used, on guest fd $FD: each call
# must fail (exit codes 101-106 say which one succeeded).  With --dir the
# preopen (fd 3) must still work, and so must a directory opened from it.
STDIO_DIR_WAT = """
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir"
    (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get"
    (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_times"
    (func $fd_filestat_set_times (param i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory"
    (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "secret.txt")
  (data (i32.const 32) "made")
  (data (i32.const 48) "sub")
  (func $must_fail (param $errno i32) (param $code i32)
    (if (i32.eqz (local.get $errno)) (then (call $exit (local.get $code)))))
  (func (export "_start")
    (call $must_fail (call $path_open (i32.const $FD) (i32.const 1) (i32.const 16) (i32.const 10)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 8)) (i32.const 101))
    (call $must_fail (call $fd_readdir (i32.const $FD) (i32.const 1024) (i32.const 256) (i64.const 0)
      (i32.const 12)) (i32.const 102))
    (call $must_fail (call $fd_prestat_get (i32.const $FD) (i32.const 64)) (i32.const 103))
    (call $must_fail (call $path_filestat_get (i32.const $FD) (i32.const 0) (i32.const 16)
      (i32.const 10) (i32.const 128)) (i32.const 104))
    (call $must_fail (call $fd_filestat_set_times (i32.const $FD) (i64.const 0) (i64.const 0)
      (i32.const 5)) (i32.const 105))
    (call $must_fail (call $path_create_directory (i32.const $FD) (i32.const 32) (i32.const 4))
      (i32.const 106))
    ;; the preopen, when there is one, and a directory opened beneath it still work
    (if (i32.eqz (call $fd_prestat_get (i32.const 3) (i32.const 64))) (then
      (if (call $path_open (i32.const 3) (i32.const 1) (i32.const 48) (i32.const 3)
            (i32.const 2) (i64.const 0x4000) (i64.const 2) (i32.const 0) (i32.const 8))
        (then (call $exit (i32.const 110))))
      (if (call $path_open (i32.load (i32.const 8)) (i32.const 1) (i32.const 16) (i32.const 10)
            (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 8))
        (then (call $exit (i32.const 111))))))
    (call $exit (i32.const 0))))
"""


@pytest.mark.parametrize("fd", [0, 1, 2])
def test_directory_as_standard_stream_grants_nothing(tmp_path, fd):
    """`edgecr wasm run x.wasm < DIR` (or 1>, 2>): the standard stream is no
    directory capability; the guest cannot open, list, stat, create in or
    touch the directory through it."""
    host = tmp_path / "host"
    (host / "sub").mkdir(parents=True)
    (host / "secret.txt").write_text("secret\n")
    (host / "sub" / "secret.txt").write_text("inner\n")
    box = tmp_path / "box"
    (box / "sub").mkdir(parents=True)
    (box / "sub" / "secret.txt").write_text("inner\n")
    mtime = host.stat().st_mtime_ns
    module = wat2wasm(STDIO_DIR_WAT.replace("$FD", str(fd)))
    dfd = os.open(host, os.O_RDONLY | os.O_DIRECTORY)
    try:
        streams = [subprocess.DEVNULL, subprocess.PIPE, subprocess.PIPE]
        streams[fd] = dfd
        for opts in ([], ["--dir", f"{box}:/box"]):
            r = subprocess.run([EDGECR_BIN, "wasm", "run", *opts, str(module)], stdin=streams[0],
                               stdout=streams[1], stderr=streams[2], timeout=60)
            assert r.returncode == 0, f"fd {fd} {opts}: call {r.returncode - 100} succeeded"
    finally:
        os.close(dfd)
    assert not (host / "made").exists()
    assert host.stat().st_mtime_ns == mtime


# ---------------------------------------------------------------- guest pointers

BAD_POINTER_WAT = """
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get"
    (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\\08\\00\\00\\00\\ff\\ff\\00\\00")  ;; iovec {8, 65535}: runs past the end
  (func (export "_start")
    (local $e i32)
    ;; iovec array itself outside memory
    (local.set $e (call $fd_write (i32.const 1) (i32.const 0xfffffff8) (i32.const 1) (i32.const 100)))
    (if (i32.ne (local.get $e) (i32.const 21)) (then (call $exit (i32.const 101))))
    ;; buffer described by the iovec runs past the end of memory
    (local.set $e (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 100)))
    (if (i32.ne (local.get $e) (i32.const 21)) (then (call $exit (i32.const 102))))
    ;; result pointer straddles the end of memory
    (local.set $e (call $args_sizes_get (i32.const 65534) (i32.const 100)))
    (if (i32.ne (local.get $e) (i32.const 21)) (then (call $exit (i32.const 103))))
    ;; huge length with a wrapping sum
    (local.set $e (call $random_get (i32.const 16) (i32.const 0xfffffff0)))
    (if (i32.ne (local.get $e) (i32.const 21)) (then (call $exit (i32.const 104))))
    ;; an absurd iovec count is refused (EINVAL) before anything is sized by it
    (local.set $e (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0xffffffff) (i32.const 100)))
    (if (i32.ne (local.get $e) (i32.const 28)) (then (call $exit (i32.const 105))))
    ;; a good call still works afterwards
    (local.set $e (call $random_get (i32.const 16) (i32.const 32)))
    (call $exit (local.get $e))))
"""


def test_guest_pointers_are_bounds_checked():
    r = run_wasm(wat2wasm(BAD_POINTER_WAT))
    assert r.returncode == 0, f"rc={r.returncode} {r.stderr}"
    assert r.stdout == ""


# ---------------------------------------------------------------- linking

def test_unknown_wasi_import_fails_naming_it():
    wat = """(module
      (import "wasi_snapshot_preview1" "fd_teleport" (func (param i32) (result i32)))
      (func (export "_start")))"""
    r = run_wasm(wat2wasm(wat))
    assert r.returncode == EXIT_RUN_ERROR
    assert "fd_teleport" in r.stderr


def test_wasi_import_with_wrong_type_fails():
    wat = """(module
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
      (func (export "_start")))"""
    r = run_wasm(wat2wasm(wat))
    assert r.returncode == EXIT_RUN_ERROR
    assert "fd_write" in r.stderr


def test_non_wasi_import_fails_naming_it():
    wat = """(module
      (import "env" "secret_host_call" (func))
      (func (export "_start")))"""
    r = run_wasm(wat2wasm(wat))
    assert r.returncode == EXIT_RUN_ERROR
    assert "secret_host_call" in r.stderr


# ---------------------------------------------------------------- traps, limits

def test_floating_point_matches_native():
    native = subprocess.run([compile_native(C_DIR / "floats.c")], capture_output=True, text=True)
    r = ok(run_wasm(prog("floats")))
    assert r.stdout == native.stdout


def test_deep_recursion_matches_native():
    native = subprocess.run([compile_native(C_DIR / "recursion.c"), "depth", "9000"],
                            capture_output=True, text=True)
    r = ok(run_wasm(prog("recursion"), "depth", "9000"))
    assert r.stdout == native.stdout


def test_unbounded_recursion_is_a_stack_exhaustion_trap():
    r = run_wasm(prog("recursion"), "forever")
    assert r.returncode == EXIT_TRAP, r.stderr
    assert "call stack exhausted" in r.stderr


def test_large_memory():
    native = subprocess.run([compile_native(C_DIR / "bigmem.c"), "48"], capture_output=True, text=True)
    r = ok(run_wasm(prog("bigmem"), "48"))
    assert r.stdout == native.stdout
    assert "allocated 48 MB" in r.stdout


def test_max_pages_limits_memory():
    r = run_wasm(prog("bigmem"), "48", opts=["--max-pages", "256"])
    assert r.returncode == 3, r.stderr          # malloc fails cleanly inside the guest
    assert "malloc(48 MB) failed" in r.stdout


def test_memory_minimum_above_max_pages_is_refused():
    r = run_wasm(wat2wasm('(module (memory 300) (func (export "_start")))'),
                 opts=["--max-pages", "256"])
    assert r.returncode == EXIT_RUN_ERROR
    assert "limit" in r.stderr


def test_memory_grow_past_max_pages_fails_in_guest():
    wat = """(module (memory 1)
      (func (export "grow") (result i32) (memory.grow (i32.const 10))))"""
    r = ok(run_wasm(wat2wasm(wat), opts=["--max-pages", "8", "--invoke", "grow"]))
    assert r.stdout == "-1\n"
    r = ok(run_wasm(wat2wasm(wat), opts=["--max-pages", "11", "--invoke", "grow"]))
    assert r.stdout == "1\n"


MANY_TABLES_WAT = "(module " + "(table 1000000 funcref) " * 40 + """
  (func (export "_start"))
  (func (export "grow") (param i32) (result i32) (table.grow 0 (ref.null func) (local.get 0))))"""


def test_memory_budget_covers_all_tables():
    """40 tables of a million entries (under the per-table cap, 320 MB in
    all): refused at instantiation by the instance's budget, naming the
    table that did not fit."""
    r = run_wasm(wat2wasm(MANY_TABLES_WAT), opts=["--memory-budget", "64m"])
    assert r.returncode == EXIT_RUN_ERROR, r.stderr
    assert "budget exceeded by table 8 (8000000 bytes;" in r.stderr, r.stderr


def test_memory_budget_bounds_table_grow():
    wat = """(module (table 0 funcref)
      (func (export "grow") (param i32) (result i32) (table.grow 0 (ref.null func) (local.get 0))))"""
    r = ok(run_wasm(wat2wasm(wat), "1000000", opts=["--memory-budget", "64m", "--invoke", "grow"]))
    assert r.stdout == "0\n" and "refused" not in r.stderr
    r = ok(run_wasm(wat2wasm(wat), "9000000", opts=["--memory-budget", "64m", "--invoke", "grow"]))
    assert r.stdout == "-1\n"
    assert "table.grow of 72000000 bytes was refused" in r.stderr, r.stderr
    r = ok(run_wasm(wat2wasm(wat), "9000000", opts=["--memory-budget", "0", "--invoke", "grow"]))
    assert r.stdout == "0\n"


@pytest.mark.parametrize("size", ["", "12x", "-1", "m", "99999999999999999999g"])
def test_memory_budget_bad_sizes(size):
    r = run_wasm(wat2wasm('(module (func (export "_start")))'), opts=["--memory-budget", size])
    assert r.returncode == EXIT_RUN_ERROR and "--memory-budget" in r.stderr, r.stderr


def test_clock_and_sleep():
    t0 = time.monotonic()
    r = ok(run_wasm(prog("clock"), int(time.time())))
    elapsed = time.monotonic() - t0
    for key in ["realtime-near-host", "res-ok", "nanosleep-ok", "usleep-ok", "cputime-ok",
                "time-ok", "yield-ok"]:
        assert f"{key}=1" in r.stdout, r.stdout
    assert elapsed >= 0.07


def test_sleep_in_start_function():
    # poll_oneoff on a 1 ms clock from the start function: it must block
    # there (the engine cannot suspend a start function), not fail.
    wat = """(module
      (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 512) "\\01\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00"
                            "\\01\\00\\00\\00\\00\\00\\00\\00\\40\\42\\0f\\00\\00\\00\\00\\00")
      (global $e (mut i32) (i32.const -1))
      (func $s (global.set $e (call $poll (i32.const 512) (i32.const 600) (i32.const 1) (i32.const 56))))
      (start $s)
      (func (export "_start")
        (if (global.get $e) (then (call $exit (i32.const 10))))
        (if (i32.ne (i32.load (i32.const 56)) (i32.const 1)) (then (call $exit (i32.const 11))))
        (call $exit (i32.load8_u (i32.const 610)))))"""
    r = run_wasm(wat2wasm(wat))
    assert r.returncode == 0, r.stderr     # one event, of type clock (0)


def test_random():
    r = ok(run_wasm(prog("random")))
    assert r.stdout.startswith("differ=1 nonzero=1 plausible=1"), r.stdout


def test_infinite_loop_stops_out_of_fuel():
    t0 = time.monotonic()
    r = run_wasm(prog("spin"), opts=["--fuel", "2000000"], timeout=60)
    assert r.returncode == EXIT_OUT_OF_FUEL, r.stderr
    assert "out of fuel" in r.stderr
    assert r.stdout == "spinning\n"
    assert time.monotonic() - t0 < 60


def test_enough_fuel_runs_to_the_end():
    r = ok(run_wasm(prog("hello"), opts=["--fuel", "10000000"]))
    assert r.stdout == "hello from wasm\n"


def test_fuel_in_start_function():
    wat = """(module (func $s (loop $l (br $l))) (start $s) (func (export "_start")))"""
    r = run_wasm(wat2wasm(wat), opts=["--fuel", "1000"], timeout=60)
    assert r.returncode == EXIT_OUT_OF_FUEL, r.stderr


# ---------------------------------------------------------------- --invoke

INVOKE_WAT = """
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "mul64") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
  (func (export "half") (param f64) (result f64) (f64.div (local.get 0) (f64.const 2)))
  (func (export "third") (param f32) (result f32) (f32.div (local.get 0) (f32.const 3)))
  (func (export "pair") (param i32) (result i32 i64) (local.get 0) (i64.const -1))
  (func (export "boom") (unreachable))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "oob") (result i32) (i32.load (i32.const 70000)))
  (memory 1))
"""


@pytest.mark.parametrize("func,args,out", [
    ("add", ["2", "40"], "42\n"),
    ("add", ["-5", "3"], "-2\n"),
    ("add", ["0x7fffffff", "1"], "-2147483648\n"),
    ("mul64", ["4294967296", "-3"], "-12884901888\n"),
    ("half", ["5"], "2.5\n"),
    ("half", ["0.2"], "0.1\n"),
    ("third", ["1"], "0.33333334\n"),
    ("pair", ["7"], "7\n-1\n"),
])
def test_invoke_prints_results(func, args, out):
    r = ok(run_wasm(wat2wasm(INVOKE_WAT), *args, opts=["--invoke", func]))
    assert r.stdout == out


@pytest.mark.parametrize("func,args,kind", [
    ("boom", [], "unreachable"),
    ("div", ["1", "0"], "integer divide by zero"),
    ("div", ["-2147483648", "-1"], "integer overflow"),
    ("oob", [], "out of bounds memory access"),
])
def test_invoke_traps(func, args, kind):
    r = run_wasm(wat2wasm(INVOKE_WAT), *args, opts=["--invoke", func])
    assert r.returncode == EXIT_TRAP
    assert kind in r.stderr


@pytest.mark.parametrize("opts,args", [
    (["--invoke", "nope"], []),
    (["--invoke", "add"], ["1"]),
    (["--invoke", "add"], ["1", "x"]),
])
def test_invoke_bad_requests(opts, args):
    r = run_wasm(wat2wasm(INVOKE_WAT), *args, opts=opts)
    assert r.returncode == EXIT_RUN_ERROR
    assert r.stderr


# ---------------------------------------------------------------- bad input

def test_missing_module_file(tmp_path):
    r = run_wasm(tmp_path / "absent.wasm")
    assert r.returncode == EXIT_RUN_ERROR
    assert "absent.wasm" in r.stderr


def test_malformed_module(tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\x01\x05\x01\x60\x00")   # truncated type section
    r = run_wasm(bad)
    assert r.returncode == EXIT_RUN_ERROR
    assert "bad.wasm" in r.stderr and "offset" in r.stderr


def test_module_without_start():
    r = run_wasm(wat2wasm("(module (func (export \"f\")))"))
    assert r.returncode == EXIT_RUN_ERROR
    assert "_start" in r.stderr


def test_bad_preopen(tmp_path):
    r = run_wasm(prog("hello"), opts=["--dir", f"{tmp_path}/missing:/x"])
    assert r.returncode == EXIT_RUN_ERROR
    assert "missing" in r.stderr


@pytest.mark.parametrize("opts", [["--fuel", "lots"], ["--max-pages", "70000"], ["--bogus"],
                                  ["--env", "=x"], ["--dir", ":x"]])
def test_bad_options(opts):
    r = run_wasm(prog("hello"), opts=opts)
    assert r.returncode == EXIT_RUN_ERROR
    assert r.stderr
