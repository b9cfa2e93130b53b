#!/bin/bash
# Where the node's memory goes (#22): starts `alongside serve` (SQLite, a fresh data directory),
# signs an admin in, adds 30 peer supporters, then loads `peerSupporters(first: 20)` with wrk
# (1 thread; 32 then 64 connections, 15 s each), then signs in 4 times at once, and prints resident memory split into
# anonymous (heap, stacks) and clean file-backed (the binary's code and libraries), peak RSS and
# the threads by name. Extra arguments are environment settings for the node, e.g.
# LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 or MALLOC_ARENA_MAX=2.
#
#   scripts/memory-profile.sh target/release/alongside [NAME=VALUE ...]
# Needs wrk and curl. Nothing here asserts a figure.
set -euo pipefail
BIN=$(realpath "$1"); shift
DIR=$(mktemp -d); PORT=$((20000 + RANDOM % 20000))
QUERY='{ peerSupporters(first: 20) { edges { node { id timeZone caseloadCap person { profession specialty experienceBand languages } } } } }'
PASSWORD='correct horse battery staple'
mem() {
  awk '/^Rss:/{r=$2} /^Anonymous:/{a=$2} /^(Shared|Private)_Clean:/{f+=$2}
       END{printf "rss %.1f MiB, anonymous %.1f MiB, clean file-backed %.1f MiB\n", r/1024, a/1024, f/1024}' \
    "/proc/$NODE/smaps_rollup"
}
env ALONGSIDE_SECURITY__RATE_LIMITS__ENABLED=false ALONGSIDE_WORKERS=2 ALONGSIDE_LOG=warn "$@" \
  "$BIN" serve --bind "127.0.0.1:$PORT" --data-dir "$DIR/data" > "$DIR/log" 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null && break; sleep 0.05; done
sleep 2
echo "idle after start: $(mem)"
printf '%s' "$PASSWORD" | "$BIN" admin create-user --email admin@load.test --role admin \
  --role coordinator --data-dir "$DIR/data" > /dev/null 2>&1
TOKEN=$(curl -s "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"admin@load.test\",\"password\":\"$PASSWORD\"}" |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
gql() {
  curl -s "http://127.0.0.1:$PORT/graphql" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -d "$(python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "$1")"
}
for i in $(seq 30); do
  ID=$(gql "mutation { createPerson(input: {displayName: \"Peer $i\", email: \"p$i@load.test\", profession: NURSE, languages: [\"en\"]}) { id } }" |
    python3 -c 'import sys, json; print(json.load(sys.stdin)["data"]["createPerson"]["id"])')
  gql "mutation { upsertPeerSupporter(input: {personId: \"$ID\", timeZone: \"America/Chicago\", caseloadCap: 3}) { id } }" > /dev/null
done
echo "after sign-in and seeding: $(mem)"
cat > "$DIR/post.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$(python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "$QUERY")]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
for c in 32 64; do
  echo "wrk, $c connections: $(wrk -t1 -c$c -d15s -s "$DIR/post.lua" --latency "http://127.0.0.1:$PORT/graphql" |
    grep -E 'Requests/sec|99%|Non-2xx' | tr -s ' \n' ' ')"
done
echo "after load: $(mem); $(grep VmHWM /proc/$NODE/status | tr -s '\t ' ' ')"
# Each password check holds Argon2's 19 MiB work area while it runs.
for _ in 1 2 3 4; do
  curl -s "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"admin@load.test\",\"password\":\"$PASSWORD\"}" > /dev/null &
done
wait $(jobs -p | grep -v "^$NODE$") 2>/dev/null || true
echo "after 4 sign-ins at once: $(mem); $(grep VmHWM /proc/$NODE/status | tr -s '\t ' ' ')"
echo "threads: $(cat /proc/$NODE/task/*/comm | sort | uniq -c | sort -rn | tr -s ' \n' ' ')"
