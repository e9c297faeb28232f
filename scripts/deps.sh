#!/bin/sh
# deps.sh — make sure the Debian packages concbench needs are installed.
# As root: installs what is missing (apt-get). Otherwise: prints the exact
# apt-get line and exits 2. --quiet prints nothing when all is present; --fuzz adds
# what `make fuzz` needs (clang and its libFuzzer runtime); --peers what the Python
# and Go peers need (runtimes/peer/README.md: `make deps PEERS=1`). chromium: the
# report's browser test (tests/test_report_browser.c) renders report.html headless.
set -eu

PACKAGES="build-essential pkg-config libuv1-dev libcurl4-openssl-dev libgmp-dev \
libjansson-dev libcriterion-dev libhttp-parser-dev hyperfine gnuplot-nox wrk valgrind procps util-linux \
nginx-light chromium"

FUZZ_PACKAGES="clang libclang-rt-14-dev"
PEER_PACKAGES="python3 python3-gevent python3-aiohttp python3-uvloop golang-go"

quiet=0
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --fuzz) PACKAGES="$PACKAGES $FUZZ_PACKAGES" ;;
    --peers) PACKAGES="$PACKAGES $PEER_PACKAGES" ;;
    *) echo "deps.sh: unknown option '$arg'; one of: --quiet, --fuzz, --peers" >&2; exit 2 ;;
  esac
done

missing=""
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done

if [ -z "$missing" ]; then
  [ "$quiet" = 1 ] || echo "deps: all packages present"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "deps: missing packages; run as root: apt-get install -y$missing" >&2
  exit 2
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: installed$missing"
