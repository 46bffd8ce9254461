#!/usr/bin/env bash
# demo.sh - the main job: edgecr deploying real containers on this machine.
#
#  1. a Linux container from a busybox rootfs: run, create/start, state,
#     exec, ps, pause/resume, update, kill, delete;
#  2. a real-time container asking for SCHED_FIFO: it gets a cgroup
#     real-time budget (where runc and crun fail with EPERM on this host);
#  3. a WebAssembly module compiled by clang, run by edgecr's own engine,
#     then the same module as a container (the WebAssembly backend), and
#     as a tenant whose signed metadata is checked at create; then two
#     tenants of different permission levels on one channel, calling host
#     services (sensor, kv, log, clock, channel), one of them granted a
#     sensor while it runs (`edgecr update --metadata`); a keyword-spotting
#     tenant whose int8 model runs in the `infer` host service;
#  4. a real-time system configuration checked ahead of time (+ SVG);
#  5. firmware deployed to an emulated Cortex-M3 core through remoteproc,
#     with the same commands as a Linux container.
#
# Everything it creates lives under a temporary directory and is removed at
# the end (containers, cgroups, the emulated core), also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
EDGECR=${EDGECR_BIN:-$ROOT/build/src/cli/edgecr}
BUILD=${EDGECR_BUILD:-$ROOT/build}
WORK=$(mktemp -d /tmp/edgecr-demo.XXXXXX)
STATE=$WORK/state
EMU_ROOT=$WORK/board
EMU=$BUILD/tools/remoteproc-emu/remoteproc-emu
ids=()

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
e() { "$EDGECR" --root "$STATE" "$@"; }
# tenants: trust, version records, kv stores and the device map of this demo
t() { "$EDGECR" --root "$STATE" --trust-dir "$WORK/trust" --tenant-dir "$WORK/tenants" --kv-root "$WORK/kv" \
      --device-map "$WORK/devices.json" "$@"; }

cleanup() {
  set +e
  for id in "${ids[@]}"; do "$EDGECR" --root "$STATE" delete --force "$id" >/dev/null 2>&1; done
  [ -x "$EMU" ] && [ -d "$EMU_ROOT" ] && "$EMU" stop --root "$EMU_ROOT" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${DEMO_KEEP:-}" ] && trap - EXIT

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (containers need namespaces and cgroups)" >&2; exit 1; }
[ -x "$EDGECR" ] || { echo "demo: $EDGECR not built (run: make)" >&2; exit 1; }

# --- a rootfs and a bundle ------------------------------------------------
make_bundle() { # make_bundle DIR ARGS_JSON [EXTRA_PYTHON]
  local dir=$1 args=$2 extra=${3:-}
  mkdir -p "$dir"
  ln -sfn "$WORK/rootfs" "$dir/rootfs"
  (cd "$dir" && "$EDGECR" spec)
  python3 - "$dir/config.json" "$args" "$extra" <<'EOF'
import json, sys
path, args, extra = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = args
c["root"]["readonly"] = False
c["linux"]["cgroupsPath"] = "/edgecr-demo/" + path.split("/")[-2]
exec(extra)
json.dump(c, open(path, "w"), indent=2)
EOF
}

step "A busybox rootfs"
mkdir -p "$WORK/rootfs"/{bin,proc,sys,dev,tmp,etc,root}
cp /bin/busybox "$WORK/rootfs/bin/busybox"
for a in $(busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$WORK/rootfs/bin/$a"; done
echo "root:x:0:0:root:/root:/bin/sh" > "$WORK/rootfs/etc/passwd"
echo "root:x:0:" > "$WORK/rootfs/etc/group"
echo "rootfs: busybox $(busybox | head -1 | awk '{print $2}') at $WORK/rootfs"

step "1. A Linux container (runc-compatible command line)"
make_bundle "$WORK/hello" '["sh","-c","echo hello from $(hostname), pid $$; cat /proc/self/cgroup | head -2; exit 7"]'
ids+=(hello)
set +e; show "$EDGECR" --root "$STATE" run --bundle "$WORK/hello" hello; rc=$?; set -e
echo "exit status propagated: $rc"

make_bundle "$WORK/svc" '["sleep","300"]'
ids+=(svc)
show e create --bundle "$WORK/svc" --pid-file "$WORK/svc.pid" svc
show e state svc
show e start svc
show e list
show e exec svc sh -c 'echo "exec: I am $(id -u) in $(hostname)"; ls /'
show e ps --format json svc
show e pause svc
e state svc | grep '"status"'
show e resume svc
show e update --memory 64m --pids-limit 32 svc
echo "memory limit in the cgroup: $(cat /sys/fs/cgroup/memory/edgecr-demo/svc/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/edgecr-demo/svc/memory.max)"
e events --stats svc | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print("stats: memory", d["memory"]["usage"]["usage"], "bytes, pids", d["pids"]["current"])'
show e kill svc KILL
sleep 0.2
e state svc | grep '"status"'
show e delete svc

step "2. A real-time container: SCHED_FIFO with a cgroup real-time budget"
make_bundle "$WORK/rt" '["sh","-c","grep -E \"^policy|^prio\" /proc/$$/sched"]' \
  'c["process"]["scheduler"] = {"policy": "SCHED_FIFO", "priority": 50}'
ids+=(rt)
show e run --bundle "$WORK/rt" rt
echo "(policy 1 = SCHED_FIFO; runc and crun get EPERM here: the new cgroup has no real-time budget)"

# 3d: `meter` (sensor temp0, kv `state`, sends on `readings`) and
# `display` (receives on `readings`; first no sensor, then granted it live).
tenant_bundle() { # tenant_bundle NAME CHANNEL_END_JSON
  local name=$1 end=$2
  mkdir -p "$WORK/$name-root/proc" "$WORK/$name-root/dev" "$WORK/$name-b"
  cp "$WORK/$name.wasm" "$WORK/$name-root/$name.wasm"
  cp "$WORK/$name.cose" "$WORK/$name-root/meta.cose"
  (cd "$WORK/$name-b" && "$EDGECR" spec)
  python3 - "$WORK/$name-b/config.json" "$WORK/$name-root" "$name" "$end" <<'PY'
import json, sys
path, root, name, end = sys.argv[1:]
c = json.load(open(path))
c["root"] = {"path": root, "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = ["/%s.wasm" % name]
c["linux"]["cgroupsPath"] = "/edgecr-demo/" + name
c["mounts"] = [m for m in c["mounts"] if m["destination"] in ("/proc", "/dev")]
chan = {"kind": "fifo", "message_size": 8, "depth": 16, "readers": 1, "wait": "futex", "full": "overwrite"}
chan.update(json.loads(end))
c["annotations"] = {"org.edgecr.tenant.metadata": "/meta.cose", "org.edgecr.channel.readings": json.dumps(chan)}
json.dump(c, open(path, "w"), indent=2)
PY
}

tenant_meta() { # tenant_meta NAME VERSION PERMISSIONS_YAML -> $WORK/NAME[-vN].cose
  local name=$1 version=$2 perms=$3 out=$WORK/$1.cose
  [ "$version" = 1 ] || out=$WORK/$1-v$version.cose
  printf 'id: %s\ntype: wasm\nversion: %s\nexpires: 2099-01-01T00:00:00Z\nkid: vendor\npermissions:\n%s\n' \
    "$name" "$version" "$perms" > "$WORK/$name.yaml"
  "$EDGECR" meta build "$WORK/$name.yaml" --module "$WORK/$name.wasm" -o "$WORK/$name.cbor"
  "$EDGECR" meta sign --key "$WORK/keys/vendor.key" "$WORK/$name.cbor" -o "$out"
}

two_tenants() {
  for n in meter display; do
    clang --target=wasm32-wasi -O2 -I include "examples/two-tenants/$n.c" -o "$WORK/$n.wasm"
  done
  # The node: an IIO temperature sensor (a sysfs-shaped tree here: this
  # machine has none) in the device map, which is node configuration.
  mkdir -p "$WORK/iio/iio:device0"
  echo bme280 > "$WORK/iio/iio:device0/name"
  echo 23125 > "$WORK/iio/iio:device0/in_temp_raw"
  echo 1 > "$WORK/iio/iio:device0/in_temp_scale"
  cat > "$WORK/devices.json" <<JSON
{"iio-root": "$WORK/iio", "sensors": {"temp0": {"name": "bme280", "channel": "temp", "factor": 0.001}}}
JSON
  local common='  log: {rate: 20}
  clock:'
  tenant_meta meter 1 "$common
  sensor: [temp0]
  kv: [{namespace: state, access: read-write, quota: 4KiB}]
  channel: [{name: readings, access: send}]"
  tenant_meta display 1 "$common
  channel: [{name: readings, access: receive}]"
  tenant_meta display 2 "$common
  sensor: [temp0]
  channel: [{name: readings, access: receive}]"
  echo "meter:   sensor temp0, kv state (read-write, 4 KiB), channel readings (send), log, clock"
  echo "display: channel readings (receive), log, clock -- no sensor, no kv"
  tenant_bundle meter '{"writer": true}'
  tenant_bundle display '{"reader": 0}'
  ids+=(display meter)
  echo "\$ t create --bundle $WORK/display-b display   (its output: display.log)"
  t create --bundle "$WORK/display-b" display >"$WORK/display.log" 2>&1
  echo "\$ t create --bundle $WORK/meter-b meter   (its output: meter.log)"
  t create --bundle "$WORK/meter-b" meter >"$WORK/meter.log" 2>&1
  show t start display
  show t start meter
  sleep 1.2
  echo "(display is running; the vendor signs version 2 of its metadata, granting the sensor)"
  show t update --metadata "$WORK/display-v2.cose" display
  for _ in $(seq 100); do
    t state display | grep -q '"stopped"' && t state meter | grep -q '"stopped"' && break
    sleep 0.1
  done
  echo "--- meter's log"; sed 's/^/  /' "$WORK/meter.log"
  echo "--- display's log (denied calls are counted and reported, then the grant takes effect live)"
  sed 's/^/  /' "$WORK/display.log"
  show t monitor --tenants
  show t monitor --channels
  show t delete meter
  echo "(meter again: its kv namespace kept its count across the restart)"
  t create --bundle "$WORK/meter-b" meter >"$WORK/meter.log" 2>&1
  show t start meter
  sleep 2.5
  grep -m1 "reading" "$WORK/meter.log" | sed 's/^/  /'
  show t delete --force meter
  show t delete --force display
}

step "3. WebAssembly: a C program compiled by clang, run by edgecr's engine"
if command -v clang >/dev/null; then
  cat > "$WORK/hello.c" <<'EOF'
#include <stdio.h>
int main(int argc, char **argv) {
  double x = 1; for (int i = 1; i < 20; i++) x += 1.0 / i;
  printf("hello from WebAssembly, %d args, H(19) = %.6f\n", argc, x);
  return argc > 1 ? 3 : 0;
}
EOF
  if clang --target=wasm32-wasi -O2 "$WORK/hello.c" -o "$WORK/hello.wasm" 2>/dev/null; then
    set +e; show "$EDGECR" wasm run "$WORK/hello.wasm" one; echo "exit status: $?"; set -e

    step "3b. The same module as a container: same commands as a Linux container"
    # A rootfs holding only the module: edgecr sees the \0asm magic of
    # process.args[0] and picks its WebAssembly backend (no flag, no shim);
    # the module runs inside the container's namespaces and cgroup.
    mkdir -p "$WORK/wasmroot" "$WORK/wasmc"
    cp "$WORK/hello.wasm" "$WORK/wasmroot/hello.wasm"
    (cd "$WORK/wasmc" && "$EDGECR" spec)
    python3 - "$WORK/wasmc/config.json" "$WORK/wasmroot" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["root"] = {"path": sys.argv[2], "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = ["/hello.wasm", "one", "two"]
c["linux"]["cgroupsPath"] = "/edgecr-demo/wasm"
c["linux"]["resources"] = {"memory": {"limit": 32 << 20}}
c["mounts"] = [m for m in c["mounts"] if m["destination"] in ("/proc", "/dev")]
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
    mkdir -p "$WORK/wasmroot/proc" "$WORK/wasmroot/dev"
    ids+=(wasm)
    set +e; show e run --bundle "$WORK/wasmc" wasm; echo "exit status propagated: $?"; set -e
    show e create --bundle "$WORK/wasmc" wasm
    echo "backend that claimed it: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["backend"])' "$STATE/wasm/state.json")"
    show e start wasm
    sleep 0.3
    e state wasm | grep '"status"'
    show e delete wasm

    step "3c. A tenant: signed metadata bound to its module, checked at create"
    mkdir -p "$WORK/keys" "$WORK/trust"
    show "$EDGECR" meta keygen --out "$WORK/keys" vendor
    cp "$WORK/keys/vendor.pub" "$WORK/trust/"
    cat > "$WORK/tenant.yaml" <<'YAML'
id: hello-tenant
type: wasm
version: 1
expires: 2099-01-01T00:00:00Z
kid: vendor
schedule: {priority: 50, period: 10ms, budget: 1ms}
permissions:
  log: {rate: 10}
  clock:
  kv:
    - {namespace: state, access: read-write, quota: 64KiB}
YAML
    show "$EDGECR" meta build "$WORK/tenant.yaml" --module "$WORK/hello.wasm" -o "$WORK/tenant.cbor"
    show "$EDGECR" meta sign --key "$WORK/keys/vendor.key" "$WORK/tenant.cbor" -o "$WORK/wasmroot/meta.cose"
    show "$EDGECR" --trust-dir "$WORK/trust" meta verify --module "$WORK/hello.wasm" "$WORK/wasmroot/meta.cose"
    python3 - "$WORK/wasmc/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.setdefault("annotations", {})["org.edgecr.tenant.metadata"] = "/meta.cose"
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
    echo '{}' > "$WORK/devices.json"
    show t create --bundle "$WORK/wasmc" tenant
    ids+=(tenant)
    e state tenant | grep '"org.edgecr.tenant'
    show e delete --force tenant
    echo "(the same metadata with a changed module is refused before anything is created:)"
    cp "$WORK/wasmroot/hello.wasm" "$WORK/hello.orig"; printf 'x' >> "$WORK/wasmroot/hello.wasm"
    set +e; show t create --bundle "$WORK/wasmc" tenant2; echo "exit status: $?"; set -e
    ids+=(tenant2)
    cp "$WORK/hello.orig" "$WORK/wasmroot/hello.wasm"

    step "3d. Two tenants, two permission levels, one channel; a grant while it runs"
    two_tenants

    step "3e. TinyML: a keyword-spotting tenant keeps its int8 model; the host runs it"
    if sh examples/tenant-kws/build.sh "$WORK/kws" >/dev/null 2>&1; then
      cp "$WORK/kws/kws.wasm" "$WORK/kws.wasm"
      tenant_meta kws 1 "  infer: {model-size: 256KiB, compute: 50ms}"
      show "$EDGECR" wasm run --tenant-metadata "$WORK/kws.cose" "$WORK/kws.wasm"
      echo "(the same tenant without the infer grant:)"
      tenant_meta kws 2 "  log:"
      set +e; show "$EDGECR" wasm run --tenant-metadata "$WORK/kws-v2.cose" "$WORK/kws.wasm" 2>&1
      echo "exit status: $?"; set -e
    else
      echo "(python3-flatbuffers missing: the model could not be generated; skipped)"
    fi
    python3 tools/wasmimage/wasmimage.py image --wasm "$WORK/hello.wasm" --ref demo/hello-wasm:1 \
      --out "$WORK/wasm-image" --tar "$WORK/hello-wasm.tar" >/dev/null
    echo "OCI image: $WORK/hello-wasm.tar; with containerd:"
    echo "  ctr image import hello-wasm.tar && ctr run --rm --runc-binary $EDGECR demo/hello-wasm:1 w1 /hello.wasm"
  else
    echo "(clang cannot target wasm32-wasi here: skipped)"
  fi
else
  echo "(clang/wasi-libc missing: skipped)"
fi

step "4. A real-time system configuration, checked ahead of time"
set +e
show "$EDGECR" plan check examples/plans/schedulable.yaml
echo "exit status: $?  (0 = schedulable)"
echo "(partitioned deadline reservations: each real-time core analysed exactly, filled to ~0.9)"
show "$EDGECR" plan check examples/plans/partitioned.yaml | tail -10
show "$EDGECR" plan check --svg "$WORK/overloaded.svg" examples/plans/overloaded.yaml | tail -8
echo "exit status: $?  (2 = not schedulable); timeline written to $WORK/overloaded.svg"
set -e

step "5. Firmware on an emulated Cortex-M3 core, through remoteproc"
if [ -x "$EMU" ] && command -v qemu-system-arm >/dev/null && command -v arm-none-eabi-gcc >/dev/null; then
  bash firmware/build.sh "$WORK/fw" >/dev/null
  "$EMU" start --root "$EMU_ROOT" --procs 1 --model "edgecr demo board" >/dev/null
  python3 tools/fwimage/fwimage.py bundle --firmware "$WORK/fw/hello.elf" --processor cm3-0 --out "$WORK/fwbundle" >/dev/null
  ids+=(fw)
  export EDGECR_REMOTEPROC_ROOT=$EMU_ROOT
  show e create --bundle "$WORK/fwbundle" fw
  show e start fw
  sleep 1
  show e state fw
  echo "core state: $(cat "$EMU_ROOT"/sys/class/remoteproc/remoteproc0/state)"
  show e logs fw
  show e kill fw TERM
  sleep 0.3
  echo "core state after kill: $(cat "$EMU_ROOT"/sys/class/remoteproc/remoteproc0/state)"
  show e delete --force fw
else
  echo "(remoteproc emulator, qemu-system-arm or gcc-arm-none-eabi missing: skipped)"
fi

step "Done: everything is cleaned up"
