#!/bin/bash
# The node's read path against the bare stack (#22): the node's authenticated
# `peerSupporters(first: 20)` and `../shared/bench/ceiling`'s `supporters(first: 20)`, on the
# same machine, in the same run, interleaved: three rounds of 15 s each (wrk, 1 thread, 32
# connections), node then ceiling in each round. Prints each round, the medians, and each
# process's peak resident memory (VmHWM). The node runs with its production defaults (info
# logging to a file, 2 HTTP workers as the ceiling has) except rate limits, which a
# single-token bench would trip.
#
#   scripts/read-vs-ceiling.sh target/release/alongside /path/to/ceiling [sqlite|postgres] [NAME=VALUE ...]
#
# The ceiling is built from a copy of ../shared/bench/ceiling (shared/ is read-only):
#   cp -r ../shared/bench/ceiling /tmp/ceiling && cargo build --release \
#     --manifest-path /tmp/ceiling/Cargo.toml --target-dir /tmp/ceiling/target
# PostgreSQL: a server on 127.0.0.1:5432 with trust auth; the databases alongside_read and
# ceiling_read are dropped and made again. PG_PARAMS, if set, is added to both servers'
# connection URLs, the same for both: `PG_PARAMS=host=/var/run/postgresql` connects through
# the server's socket, `PG_PARAMS=sslmode=disable` over TCP without TLS (libpq's default,
# `prefer`, encrypts loopback too). Extra NAME=VALUE arguments are environment
# settings for the node. PERF_OUT=FILE also records a CPU profile of the node under the same
# load (perf, before the measured rounds). Needs wrk, curl, python3. Nothing here asserts a figure.
set -euo pipefail
NODE_BIN=$(realpath "$1"); CEILING_BIN=$(realpath "$2"); BACKEND=${3:-sqlite}
shift 3 2>/dev/null || shift $#
ROUNDS=${ROUNDS:-3}; SECS=${SECS:-15}; CONNS=${CONNS:-32}
DIR=$(mktemp -d); NPORT=$((20000 + RANDOM % 10000)); CPORT=$((NPORT + 1))
PASSWORD='correct horse battery staple'
NODE_QUERY='{ peerSupporters(first: 20) { edges { node { id timeZone caseloadCap person { profession specialty experienceBand languages } } } } }'
CEILING_QUERY='{ supporters(first: 20) { id profession specialty experienceYears languages } }'
json_query() { python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "$1"; }

if [ "$BACKEND" = postgres ]; then
  for db in alongside_read ceiling_read; do
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  done
  NODE_DB=(ALONGSIDE_DATABASE_URL=postgres://postgres@127.0.0.1/alongside_read${PG_PARAMS:+?$PG_PARAMS})
  CEILING_DB=postgres://postgres@127.0.0.1/ceiling_read${PG_PARAMS:+?$PG_PARAMS}
else
  NODE_DB=()
  CEILING_DB=$DIR/ceiling.db
fi

"$CEILING_BIN" seed "$CEILING_DB" 10000 2> /dev/null
CEILING_WORKERS=2 "$CEILING_BIN" serve "$CEILING_DB" "$CPORT" 2> "$DIR/ceiling.log" &
CEILING=$!
env "${NODE_DB[@]}" ALONGSIDE_SECURITY__RATE_LIMITS__ENABLED=false ALONGSIDE_WORKERS=2 "$@" \
  "$NODE_BIN" serve --bind "127.0.0.1:$NPORT" --data-dir "$DIR/data" > "$DIR/node.log" 2>&1 &
NODE=$!
trap 'kill $NODE $CEILING 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$NPORT/readyz" > /dev/null && break; sleep 0.05; done

printf '%s' "$PASSWORD" | env "${NODE_DB[@]}" "$NODE_BIN" admin create-user --email admin@read.test \
  --role admin --role coordinator --data-dir "$DIR/data" > /dev/null 2>&1
TOKEN=$(curl -s "http://127.0.0.1:$NPORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"admin@read.test\",\"password\":\"$PASSWORD\"}" |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
gql() {
  curl -s "http://127.0.0.1:$NPORT/graphql" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -d "$(json_query "$1")"
}
for i in $(seq 30); do
  ID=$(gql "mutation { createPerson(input: {displayName: \"Peer $i\", email: \"p$i@read.test\", profession: NURSE, specialty: \"Emergency\", languages: [\"en\", \"es\"]}) { id } }" |
    python3 -c 'import sys, json; print(json.load(sys.stdin)["data"]["createPerson"]["id"])')
  gql "mutation { upsertPeerSupporter(input: {personId: \"$ID\", timeZone: \"America/Chicago\", caseloadCap: 3}) { id } }" > /dev/null
done
# Both answer 20 rows before anything is measured.
gql "$NODE_QUERY" | python3 -c 'import sys, json; assert len(json.load(sys.stdin)["data"]["peerSupporters"]["edges"]) == 20, "node: not 20 rows"'
curl -s "http://127.0.0.1:$CPORT/graphql" -H 'content-type: application/json' -d "$(json_query "$CEILING_QUERY")" |
  python3 -c 'import sys, json; assert len(json.load(sys.stdin)["data"]["supporters"]) == 20, "ceiling: not 20 rows"'

cat > "$DIR/node.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$(json_query "$NODE_QUERY")]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
cat > "$DIR/ceiling.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$(json_query "$CEILING_QUERY")]]
wrk.headers["Content-Type"] = "application/json"
LUA
run() { # name port script -> "req/s p99(ms) non-2xx"
  wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$3" --latency "http://127.0.0.1:$2/graphql" |
    python3 -c '
import sys, re
t = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(f"{rps:.0f} {p99:.2f} {bad.group(1) if bad else 0}")'
}
if [ -n "${PERF_OUT:-}" ]; then
  # A profile of the node under the same load, before the measured rounds (perf's own cost
  # would distort them): 10 s of stacks, sampled on CPU time (this machine has no hardware
  # counters), unwound from DWARF line tables (build with CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
  # and CARGO_PROFILE_RELEASE_STRIP=none).
  wrk -t1 -c"$CONNS" -d14s -s "$DIR/node.lua" "http://127.0.0.1:$NPORT/graphql" > /dev/null &
  LOAD=$!
  sleep 2
  perf record -e cpu-clock -F 499 --call-graph dwarf,32768 -p "$NODE" -o "$PERF_OUT" -- sleep 10 2> /dev/null
  wait "$LOAD"
fi
: > "$DIR/node.txt"; : > "$DIR/ceiling.txt"
for r in $(seq "$ROUNDS"); do
  n=$(run node "$NPORT" "$DIR/node.lua"); echo "$n" >> "$DIR/node.txt"
  c=$(run ceiling "$CPORT" "$DIR/ceiling.lua"); echo "$c" >> "$DIR/ceiling.txt"
  echo "round $r ($BACKEND): node $n | ceiling $c   (req/s, p99 ms, non-2xx)"
done
median() { sort -n -k"$1" "$2" | awk -v k="$1" '{v[NR]=$k} END{print v[int((NR+1)/2)]}'; }
hwm() { awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
nr=$(median 1 "$DIR/node.txt"); cr=$(median 1 "$DIR/ceiling.txt")
echo "| $BACKEND | node | $nr | $(median 2 "$DIR/node.txt") ms | $(hwm $NODE) MiB |"
echo "| $BACKEND | ceiling | $cr | $(median 2 "$DIR/ceiling.txt") ms | $(hwm $CEILING) MiB |"
echo "node / ceiling: $(python3 -c "print(f'{$nr / $cr:.2f}')")"
