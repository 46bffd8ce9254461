#!/usr/bin/env bash
# bench/infer/m3/run.sh - the inference library on Cortex-M3 under QEMU
# (mps2-an385): instructions per multiply-accumulate of FULLY_CONNECTED and
# CONV_2D alone and of the keyword-spotting CNN, at -Os and -O2, counted
# with `-icount shift=0` and the SysTick (infer_m3.c says how, and checks
# the count on a loop of known length first), then the library's code size
# (scripts/infer-size.sh, target <= 24 KiB).  Output checksums must equal
# the host build's (bench_infer.c), else the script fails.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null ||
  { echo "bench: needs gcc-arm-none-eabi and qemu-system-arm" >&2; exit 1; }
OUT=$(mktemp -d /tmp/edgecr-bench-infer-m3.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
/usr/bin/python3 "$ROOT/bench/infer/gen_bench_models.py" "$OUT"
LIB=("$ROOT"/src/infer/fb.c "$ROOT"/src/infer/plan.c "$ROOT"/src/infer/kernels.c)
FW=("$ROOT"/firmware/common/startup.c "$ROOT"/firmware/common/board.c "$ROOT"/firmware/common/fmt.c)
cc -std=c11 -O2 -I "$ROOT/src/infer" "${LIB[@]}" "$ROOT/bench/infer/bench_infer.c" -o "$OUT/native" -lm

status=0
printf "%-5s %-9s %10s %12s %10s  %s\n" opt model MACs insns insns/MAC "output vs host"
for opt in -Os -O2; do
  arm-none-eabi-gcc -std=c11 -Wall -Wextra -Werror -mcpu=cortex-m3 -mthumb -ffreestanding \
    -ffunction-sections -fdata-sections "$opt" -I "$ROOT/firmware/common" -I "$ROOT/src/infer" \
    "$HERE/infer_m3.c" "${LIB[@]}" "${FW[@]}" "-Wa,-I$OUT" -x assembler-with-cpp "$HERE/models.S" \
    -nostartfiles -nostdlib -Wl,--gc-sections -T "$ROOT/firmware/common/mps2-an385.ld" -lgcc -o "$OUT/m3.elf"
  timeout 300 qemu-system-arm -M mps2-an385 -nodefaults -display none -serial stdio -semihosting \
    -icount shift=0 -kernel "$OUT/m3.elf" 2>/dev/null | tr -d '\r' >"$OUT/m3.txt"
  calib=$(awk '/^calib/ {print $NF}' "$OUT/m3.txt")
  [ "$calib" = "2.00" ] || { echo "calibration loop counted $calib instructions per iteration, not 2" >&2; status=1; }
  while read -r _ name _ macs _ insns _ per _ _ _ sum; do
    host=$("$OUT/native" "$OUT/$name.tflite" "$OUT/$name.in.bin" 1 | awk '{print $NF}')
    [ "$host" = "$sum" ] && check=same || { check=MISMATCH; status=1; }
    printf "%-5s %-9s %10s %12s %10s  %s\n" "$opt" "$name" "$macs" "$insns" "$per" "$check"
  done < <(grep '^model' "$OUT/m3.txt")
  grep -q '^model.* error' "$OUT/m3.txt" && { grep error "$OUT/m3.txt"; status=1; }
done
echo "counted with -icount shift=0 (1 insn = 1 ns) and the 25 MHz SysTick (40 insns per tick);"
echo "calibration: a 2-instruction loop counted $calib per iteration"
echo
sh "$ROOT/scripts/infer-size.sh" | tail -2
exit $status
