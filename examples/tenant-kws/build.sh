#!/bin/sh
# build.sh OUTDIR - the example keyword-spotting tenant: OUTDIR/kws.wasm
# (clang --target=wasm32-wasi -O2), with its model generated into
# OUTDIR/kws_model.h, and the same model and windows as files in OUTDIR/data
# (kws.tflite, window<i>.bin) for comparisons with the native library.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out"
/usr/bin/python3 "$here/gen_model_h.py" "$out/kws_model.h" "$out/data"
clang --target=wasm32-wasi -O2 -Wall -Wextra -Werror -I "$here/../../include" -I "$out" "$here/kws.c" -o "$out/kws.wasm"
