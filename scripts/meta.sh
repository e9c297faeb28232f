#!/bin/sh
# meta.sh BIN [PROFILE [PID]] — machine metadata for a bench run, as one JSON object on
# stdout, with "warnings": the reasons the machine may be too noisy to trust timings.
set -eu
bin=${1:-bin}
profile=${2:-default}
q() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr '\n' ' '; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
gov=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo unreadable)
pkgv() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
cores=$(nproc)
load=$(cut -d' ' -f1-3 /proc/loadavg)
load1=$(cut -d' ' -f1 /proc/loadavg)
git_rev=$(git rev-parse --short HEAD 2>/dev/null || echo none)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | head -n 1)
[ -n "$dirty" ] && git_rev="$git_rev+dirty"
warnings=""
warn() { warnings="$warnings${warnings:+,}\"$(q "$1")\""; }
if awk -v l="$load1" -v c="$cores" 'BEGIN { exit !(l > 0.25 * c) }'; then
  warn "load average $load1 on $cores cores at start: other work is running, timings will be noisy"
fi
case "$gov" in
  performance|unreadable) ;;
  *) warn "CPU frequency governor is '$gov', not 'performance': clock speed may vary between runs" ;;
esac
# CPU share over each process's lifetime; the bench that runs this script and its
# ancestors (make, the shell) are left out.
ours=" "
pid=${3:-$$}
while [ -n "$pid" ] && [ "$pid" -gt 1 ] 2>/dev/null; do
  ours="$ours$pid "
  pid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null)
done
busy=$(ps -eo pid=,pcpu=,comm= --sort=-pcpu 2>/dev/null |
  awk -v ours="$ours" 'index(ours, " " $1 " ") == 0 && $2 > 20 && $3 != "ps" { printf "%s%s (%s%%)", s, $3, $2; s=", " }' | head -c 200)
[ -n "$busy" ] && warn "busy processes at start: $busy"
cat <<JSON
{"date":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","profile":"$(q "$profile")","host":"$(q "$(uname -n)")","cpu":"$(q "$cpu")",
"cores":$cores,"governor":"$(q "$gov")","kernel":"$(q "$(uname -sr)")",
"libc":"$(q "$(ldd --version 2>/dev/null | head -n 1)")","compiler":"$(q "$(${CC:-cc} --version | head -n 1)")",
"cflags":"$(q "${CONCBENCH_CFLAGS:-unknown (not run through make)}")","git":"$(q "$git_rev")",
"libuv":"$(pkgv libuv1-dev)","libcurl":"$(pkgv libcurl4-openssl-dev)","gmp":"$(pkgv libgmp-dev)",
"jansson":"$(pkgv libjansson-dev)",
"hyperfine":"$(q "$(hyperfine --version)")","gnuplot":"$(q "$(gnuplot --version)")",
"loadavg":"$load","binary_sha256":"$(sha256sum "$bin/concbench" | cut -c1-16)",
"warnings":[$warnings]}
JSON
