#!/bin/sh
# meta.sh BIN — machine metadata for a bench run, as one JSON object on stdout.
set -eu
bin=${1:-bin}
q() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
gov=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo unknown)
pkgv() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
cat <<JSON
{"date":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","host":"$(q "$(uname -n)")","cpu":"$(q "$cpu")",
"cores":$(nproc),"governor":"$(q "$gov")","kernel":"$(q "$(uname -sr)")",
"libc":"$(q "$(ldd --version 2>/dev/null | head -n 1)")","compiler":"$(q "$(cc --version | head -n 1)")",
"cflags":"-O2 -g","git":"$(git rev-parse --short HEAD 2>/dev/null || echo none)",
"libuv":"$(pkgv libuv1-dev)","libcurl":"$(pkgv libcurl4-openssl-dev)","gmp":"$(pkgv libgmp-dev)",
"hyperfine":"$(q "$(hyperfine --version)")","gnuplot":"$(q "$(gnuplot --version)")",
"loadavg":"$(cut -d' ' -f1-3 /proc/loadavg)","binary_sha256":"$(sha256sum "$bin/concbench" | cut -c1-16)"}
JSON
