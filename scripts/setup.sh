#!/usr/bin/env bash
# setup.sh demo|check - the README's two commands.  On a fresh Debian 12
# box: installs what is missing (make, compilers, libraries, test tools),
# builds, then runs the demo (`demo`) or every test suite (`check`).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  demo|check) ;;
  *) echo "usage: $0 demo|check" >&2; exit 2 ;;
esac
if ! command -v make >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq make >/dev/null
fi
exec make "$1"
