#!/bin/bash
# run-official.sh DIR [OUT] - run the official WebAssembly core spec scripts
# (*.wast in DIR, e.g. a checkout of the spec repository's test/core) through
# wabt's wast2json, then through `edgecr wasm spectest` and, as a reference,
# wabt's spectest-interp.  Prints one line per file (edgecr passed / failed /
# skipped, reference passed/total) and the totals.
#
# Not run by CI: the official files are not part of this repository.
# EDGECR_BIN selects the binary (default: build/src/cli/edgecr).  Files whose
# name says they belong to an out-of-scope proposal (simd_*, memory64, ...)
# are listed as "out of scope" and not run.  OUT (default: a temporary
# directory) receives the converted scripts and each run's full output.
set -u
dir=${1:?usage: run-official.sh DIR [OUT]}
here=$(cd "$(dirname "$0")/../../.." && pwd)
bin=${EDGECR_BIN:-$here/build/src/cli/edgecr}
out=${2:-$(mktemp -d)}
[ -x "$bin" ] || { echo "no edgecr binary at $bin (set EDGECR_BIN)" >&2; exit 2; }
command -v wast2json >/dev/null || { echo "wast2json (wabt) not installed" >&2; exit 2; }

printf '%-28s %7s %7s %7s   %s\n' file passed failed skipped reference
tp=0 tf=0 ts=0 nfiles=0
for wast in "$dir"/*.wast; do
  name=$(basename "$wast" .wast)
  # (f64 and i64 are core files, not memory64 ones like address64)
  case $name in
    f64|i64) ;;
    simd_*|*64|memory64*|atomic*|*exception*|tag|throw*|try_*|rethrow|return_call*|\
    call_ref|ref_as_non_null|br_on_*|local_init|*relaxed*|array*|struct*|i31|extern|\
    ref_cast|ref_test|ref_eq|type-*|multi-memory*)
      printf '%-28s %s\n' "$name" "out of scope (proposal)"; continue ;;
  esac
  d=$out/$name
  mkdir -p "$d"
  # Extended-const modules convert only with the flag; the engine then
  # reports them as out of scope.
  if ! wast2json --enable-extended-const "$wast" -o "$d/$name.json" 2>"$d/wast2json.err" &&
     ! wast2json "$wast" -o "$d/$name.json" 2>"$d/wast2json.err"; then
    printf '%-28s %s\n' "$name" "wast2json cannot convert it (see $d/wast2json.err)"
    continue
  fi
  ref=$(spectest-interp "$d/$name.json" 2>&1 | tail -1)
  timeout 600 "$bin" wasm spectest "$d/$name.json" >"$d/edgecr.txt" 2>&1
  last=$(tail -1 "$d/edgecr.txt")
  if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
  else
    p=0 f=1 s=0 last="crashed or timed out: $last"
  fi
  [[ $ref =~ ([0-9]+/[0-9]+) ]] && ref=${BASH_REMATCH[1]}
  printf '%-28s %7d %7d %7d   %s\n' "$name" "$p" "$f" "$s" "$ref"
  tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s)) nfiles=$((nfiles + 1))
done
printf '%-28s %7d %7d %7d\n' "TOTAL ($nfiles files)" "$tp" "$tf" "$ts"
echo "outputs: $out"
echo "$tp passed, $tf failed, $ts skipped"
[ "$tf" -eq 0 ]
