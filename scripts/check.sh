#!/usr/bin/env bash
# The full test run (called by `make check`): unit tests in the normal and the
# sanitizer build, then every pytest suite against the normal build, the
# integration suite once more in a cgroup2-only view of the host, then the
# lifecycle suite against the sanitizer build.  Prints one closing line
# "N passed, N failed" that sums everything.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export EDGECR_BIN="$ROOT/build/src/cli/edgecr"
export EDGECR_BUILD="$ROOT/build"
# Debian's python3 has pytest (a pyenv python3 earlier on PATH may not).
PY=/usr/bin/python3
passed=0; failed=0; skipped=0
tally_meson() { # parse "Ok: N" / "Fail: N" from meson test output
  local out=$1
  local ok fail skip
  ok=$(grep -E '^Ok:' "$out" | awk '{print $2}'); fail=$(grep -E '^Fail:' "$out" | awk '{print $2}')
  skip=$(grep -E '^Skipped:' "$out" | awk '{print $2}')
  passed=$((passed + ${ok:-0})); failed=$((failed + ${fail:-0})); skipped=$((skipped + ${skip:-0}))
  local to; to=$(grep -E '^Timeout:' "$out" | awk '{print $2}'); failed=$((failed + ${to:-0}))
}
tally_pytest() { # parse pytest's summary line
  local out=$1 line n
  # pytest's closing line, with or without the ===== frame (-q drops it)
  line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|errors?|skipped|deselected).* in [0-9.]+s' "$out" | tail -1)
  if [ -z "$line" ]; then  # pytest never got to its summary: count that
    echo "check.sh: no pytest summary in this run: counted as 1 failure" >&2
    failed=$((failed + 1)); return
  fi
  n=$(grep -oE '[0-9]+ passed' <<<"$line" | awk '{print $1}'); passed=$((passed + ${n:-0}))
  n=$(grep -oE '[0-9]+ failed' <<<"$line" | awk '{print $1}'); failed=$((failed + ${n:-0}))
  n=$(grep -oE '[0-9]+ errors?' <<<"$line" | awk '{print $1}'); failed=$((failed + ${n:-0}))
  n=$(grep -oE '[0-9]+ skipped' <<<"$line" | awk '{print $1}'); skipped=$((skipped + ${n:-0}))
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "== unit tests (build/)"
meson test -C build --print-errorlogs 2>&1 | tee "$tmp/unit" ; tally_meson "$tmp/unit"
echo "== unit tests (build-asan/)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs 2>&1 | tee "$tmp/asan" ; tally_meson "$tmp/asan"
echo "== integration tests (build/)"
$PY -m pytest -q -p no:cacheprovider tests 2>&1 | tee "$tmp/py"; tally_pytest "$tmp/py"
if [ -d tests/integration ]; then
  # The same suite again where /sys/fs/cgroup shows only the cgroup2
  # hierarchy (a default Debian 12 install's layout), in a private mount
  # namespace: the tests probe the layout and assert what the runtime
  # promises there (tests/lib/hostprobe.py).
  echo "== integration tests, cgroup2-only view (build/)"
  bash tests/lib/cgroup2_only.sh $PY -m pytest -q -p no:cacheprovider tests/integration 2>&1 \
    | tee "$tmp/pyv2"; tally_pytest "$tmp/pyv2"
fi
if [ -d tests/integration ]; then
  echo "== lifecycle tests under ASan/UBSan (build-asan/)"
  EDGECR_BIN="$ROOT/build-asan/src/cli/edgecr" EDGECR_SANITIZED=1 \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1 \
    $PY -m pytest -q -p no:cacheprovider -m sanitizer tests/integration 2>&1 | tee "$tmp/pyasan"
  tally_pytest "$tmp/pyasan"
fi
echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
