#!/usr/bin/env bash
# Installs the Debian packages edgecr needs to build, test, demo and benchmark.
# Idempotent: only calls apt-get when something is missing.
set -euo pipefail

BUILD_PKGS=(meson ninja-build pkg-config gcc libc6-dev clang lld make
  libjansson-dev libseccomp-dev libcap-dev libyaml-dev libostree-dev libfuse3-dev fuse3
  libcmocka-dev libcbor-dev libsodium-dev liblmdb-dev libgpiod-dev)
TEST_PKGS=(python3-pytest busybox-static containerd umoci crun runc
  wasi-libc libclang-rt-dev-wasm32 libclang-rt-14-dev wabt
  qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi
  rt-tests iproute2 procps psmisc util-linux coreutils valgrind hyperfine
  python3-grpcio python3-grpc-tools python3-cbor2 python3-nacl
  lmdb-utils gpiod strace
  libzmq3-dev libiceoryx-binding-c-dev iceoryx)

TEST_PKGS+=(python3-flatbuffers python3-pyarmnn libarmnn-cpuref-backend22)  # tests/infer
want=("${BUILD_PKGS[@]}")
if [ "${1:-}" != "--build-only" ]; then want+=("${TEST_PKGS[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
