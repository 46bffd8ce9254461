#!/bin/sh
# infer-size.sh - build the inference library (src/infer) freestanding for
# Cortex-M3 at -Os and print its code size (target: <= 24 KiB).
# Usage: scripts/infer-size.sh [--out FILE] [library .c files...]
set -eu
out=""
if [ "${1:-}" = "--out" ]; then out=$2; shift 2; fi
if [ $# -eq 0 ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  set -- "$here"/src/infer/fb.c "$here"/src/infer/plan.c "$here"/src/infer/kernels.c
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
# Link against libgcc (soft double/float helpers the plan-time scale maths
# needs) with the library's entry points kept, to count what a firmware pays.
"$CC" -mcpu=cortex-m3 -mthumb -nostdlib -Wl,--gc-sections -Wl,--entry=ei_plan_build \
      -Wl,--undefined=ei_run -Wl,--undefined=ei_input_bytes -Wl,--undefined=ei_output_bytes \
      -Wl,--undefined=ei_arena_used -o "$tmp/infer.elf" $objs -lgcc
# shellcheck disable=SC2086
report=$(arm-none-eabi-size -t $objs | sed "s|$tmp/||")
total=$(printf '%s\n' "$report" | awk '/TOTALS/ {print $1 + $2}')
linked=$(arm-none-eabi-size "$tmp/infer.elf" | awk 'NR == 2 {print $1 + $2}')
text="$report
infer Cortex-M3 -Os code+rodata: $total bytes ($((total / 1024)) KiB; target <= 24576)
linked with libgcc float helpers, unused sections dropped: $linked bytes"
printf '%s\n' "$text"
if [ -n "$out" ]; then printf '%s\n' "$text" > "$out"; fi
