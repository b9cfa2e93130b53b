#!/usr/bin/env bash
# Measures, for the release binary: time from process start to /readyz answering 200 (fresh data
# directory, then an existing one), and resident memory after idling. Loopback only; bounded.
# Usage: scripts/measure-startup.sh [path/to/alongside] [runs]
set -euo pipefail
bin=${1:-${CARGO_TARGET_DIR:-target}/release/alongside}
runs=${2:-5}
port=18931
measure() {
  local dir=$1 start end pid
  start=$(date +%s%N)
  "$bin" serve --bind 127.0.0.1:$port --data-dir "$dir" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 2000); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; then break; fi
    sleep 0.005
  done
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 ))"
  sleep 2
  grep VmRSS /proc/$pid/status | awk '{print $2}' >&2
  kill $pid; wait $pid 2>/dev/null || true
}
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  fresh=$(measure "$dir" 2>/tmp/rss_fresh)
  again=$(measure "$dir" 2>/tmp/rss_again)
  echo "run $i: fresh start to ready ${fresh} ms (idle RSS $(cat /tmp/rss_fresh) KiB); existing data ${again} ms (idle RSS $(cat /tmp/rss_again) KiB)"
  rm -rf "$dir"
done
