#!/bin/sh
# wasm-size.sh - build the wasm engine (decoder + validator + interpreter,
# no WASI) freestanding for Cortex-M3 at -Os and print its code size.
# Usage: scripts/wasm-size.sh [--out FILE] [engine .c files...]
# Without files, uses src/wasm/*.c of this checkout.
set -eu
out=""
if [ "${1:-}" = "--out" ]; then out=$2; shift 2; fi
if [ $# -eq 0 ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  set -- "$here"/src/wasm/decode.c "$here"/src/wasm/compile.c \
         "$here"/src/wasm/interp.c "$here"/src/wasm/instance.c
fi
CC=${ARM_CC:-arm-none-eabi-gcc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
objs=""
for src in "$@"; do
  obj="$tmp/$(basename "$src" .c).o"
  "$CC" -std=c11 -Os -mcpu=cortex-m3 -mthumb -ffreestanding -ffunction-sections \
        -fdata-sections -Wall -Wextra -Werror -c "$src" -o "$obj"
  objs="$objs $obj"
done
# shellcheck disable=SC2086
report=$(arm-none-eabi-size -t $objs | sed "s|$tmp/||")
total=$(printf '%s\n' "$report" | awk '/TOTALS/ {print $1 + $2}')
text="$report
engine Cortex-M3 -Os code+rodata: $total bytes ($((total / 1024)) KiB; target <= 49152)"
printf '%s\n' "$text"
if [ -n "$out" ]; then printf '%s\n' "$text" > "$out"; fi
