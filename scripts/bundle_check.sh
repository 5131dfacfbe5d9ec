#!/bin/sh
# Self-containment check: bundle tempus into one JavaScript file, then run that file alone
# (from an empty directory, so nothing in the repository can be picked up) with --version
# and a `query` against a real chronyd -x on loopback. Never touches the clock.
# Usage: scripts/bundle_check.sh [OUTPUT_DIR]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
keep_out=${1:-}
out=${1:-$(mktemp -d)}
work=$(mktemp -d)
chronyd_pid=""
cleanup() {
  if [ -n "$chronyd_pid" ]; then kill "$chronyd_pid" 2>/dev/null || true; wait "$chronyd_pid" 2>/dev/null || true; fi
  rm -rf "$work"
  if [ -z "$keep_out" ]; then rm -rf "$out"; fi
}
trap cleanup EXIT INT TERM

deno="$here/deno"
(cd "$here" && "$deno" bundle --platform deno -o "$out/tempus.js" mod.ts)
echo "bundle: $out/tempus.js ($(wc -c < "$out/tempus.js") bytes)"

version=$(cd "$work" && "$deno" run -A --unstable-net "$out/tempus.js" --version)
echo "version: $version"
case "$version" in tempus\ *) ;; *) echo "unexpected --version output" >&2; exit 1 ;; esac

if [ ! -x /usr/sbin/chronyd ]; then
  echo "chronyd not installed: query step skipped"
  exit 0
fi
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chmod 0777 "$work"
cat > "$work/chrony.conf" <<CONF
local stratum 1
allow 127.0.0.0/8
bindaddress 127.0.0.1
port $port
cmdport 0
pidfile $work/chronyd.pid
driftfile $work/drift
CONF
/usr/sbin/chronyd -x -d -f "$work/chrony.conf" >/dev/null 2>&1 &
chronyd_pid=$!
tries=0
until (cd "$work" && "$deno" run -A --unstable-net "$out/tempus.js" query --timeout 0.3 "127.0.0.1:$port") >"$work/query.out" 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 10 ]; then cat "$work/query.out" >&2; echo "bundled query failed" >&2; exit 1; fi
done
cat "$work/query.out"
echo "bundle check: ok"
