#!/bin/bash
# Where the write tail comes from, second by second (#22): runs the load bench's mixed phase on
# PostgreSQL (1,000/s, `LOAD_TIMELINE=1`) and beside it reads, once a second, how much processor
# time the node, PostgreSQL, the load generator and everything else used, and the machine's busy
# share. Prints one line a second: `requestSupport`'s p50, p99 and count over 10 ms in that
# second, then the readings. A tail that comes with more processor time for the same requests
# points at the work (or the machine); one that comes with no change points at a wait.
#
#   LOAD_DATABASE_URL=postgres://postgres@127.0.0.1/load_bench scripts/write-tail-seconds.sh [LOAD_BENCH]
#
# LOAD_BENCH is the built load bench (`cargo bench -p alongside-tests --bench load --no-run`
# prints its path); without it the bench is run through cargo. The release `alongside` must be
# built in the same CARGO_TARGET_DIR. The database is emptied first (dropped and made again).
# Extra environment (ALONGSIDE_* settings, LOAD_SECS) reaches the node and the bench as usual.
# Needs python3 and psql. Nothing here asserts a figure.
set -euo pipefail
: "${LOAD_DATABASE_URL:?set LOAD_DATABASE_URL to a PostgreSQL database the bench may empty}"
SECS=${LOAD_SECS:-60}
DIR=$(mktemp -d)
trap 'kill $SAMPLER 2>/dev/null; rm -rf "$DIR"' EXIT
BASE=${LOAD_DATABASE_URL%%\?*}; QUERY=${LOAD_DATABASE_URL#"$BASE"}
DB=${BASE##*/}; SERVER=${BASE%/*}/postgres$QUERY
psql "$SERVER" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"

# Processor time per second by group, from /proc (clock ticks turned into ms).
python3 - "$DIR/cpu" $((SECS + 600)) <<'EOF' &
import os, sys, time
hz = os.sysconf('SC_CLK_TCK')
def group(name):
    if name == 'alongside': return 'node'
    if name.startswith('postgres'): return 'postgres'
    if name.startswith('load-') or name.startswith('load_'): return 'bench'
    return 'other'
def snap():
    per_pid = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit(): continue
        try:
            with open(f'/proc/{pid}/stat') as f: s = f.read()
        except OSError: continue
        fields = s[s.rindex(')') + 2:].split()
        per_pid[pid] = (group(s[s.index('(') + 1:s.rindex(')')]), int(fields[11]) + int(fields[12]))
    with open('/proc/stat') as f: cpu = [int(x) for x in f.readline().split()[1:]]
    return per_pid, cpu
out = open(sys.argv[1], 'w')
prev, pcpu = snap(); end = time.time() + float(sys.argv[2])
while time.time() < end:
    time.sleep(1)
    cur, ccpu = snap(); used = {}
    for pid, (g, t) in cur.items():
        used[g] = used.get(g, 0) + t - prev.get(pid, (g, t))[1]
    busy = sum(ccpu[i] - pcpu[i] for i in (0, 1, 2, 5, 6, 7))
    idle = sum(ccpu[i] - pcpu[i] for i in (3, 4))
    out.write(f"{time.time():.3f} {100 * busy / max(busy + idle, 1):.0f} " +
              " ".join(str(used.get(g, 0) * 1000 // hz) for g in ('node', 'postgres', 'bench', 'other')) + "\n")
    out.flush()
    prev, pcpu = cur, ccpu
EOF
SAMPLER=$!

if [ $# -ge 1 ]; then
  LOAD_ONLY=mixed LOAD_TIMELINE=1 "$1" --bench > "$DIR/bench"
else
  LOAD_ONLY=mixed LOAD_TIMELINE=1 cargo bench --locked -q -p alongside-tests --bench load > "$DIR/bench"
fi
grep -E "mixed|requestSupport:|recordEncounter:" "$DIR/bench" | grep -v "–"
START=$(sed -n 's/.*windows start at unix time \([0-9.]*\).*/\1/p' "$DIR/bench")
grep -E "requestSupport +[0-9]+– *[0-9]+ s:" "$DIR/bench" |
  sed -E 's/.*– *([0-9]+) s: .*p50 ([0-9.]+) ms, p99 ([0-9.]+) ms.*over 10 ms ([0-9]+)/\1 \2 \3 \4/' > "$DIR/seconds"
python3 - "$DIR/seconds" "$DIR/cpu" "$START" <<'EOF'
import sys
start = float(sys.argv[3])
cpu = [line.split() for line in open(sys.argv[2])]
print("second  p50 ms  p99 ms  >10 ms  busy %  node ms  postgres ms  bench ms  other ms")
for line in open(sys.argv[1]):
    end, p50, p99, over = line.split()
    # The reading whose one-second span ends closest to this window's end.
    at = start + float(end)
    near = min(cpu, key=lambda c: abs(float(c[0]) - at))
    print(f"{end:>6}  {p50:>6}  {p99:>6}  {over:>6}  {near[1]:>6}  {near[2]:>7}  {near[3]:>11}  {near[4]:>8}  {near[5]:>8}")
EOF
