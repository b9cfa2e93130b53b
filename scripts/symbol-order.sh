#!/bin/bash
# Writes api/symbol-order.txt (#22, memory): the functions the node runs when it starts and
# serves, hottest first, which the release link places together at the front of the code
# (api/build.rs). The kernel maps a binary's code in 64 KiB runs around each page touched, so
# code scattered over all 38 MB leaves most of it resident; gathered, far less.
#
#   scripts/symbol-order.sh target/release/alongside [OUT]
#   scripts/symbol-order.sh --check target/release/alongside [LIST]
#
# BIN must be built exactly as the node ships, with no profile setting changed:
#   cargo build --release -p alongside-api
# cargo hashes the profile (strip, debug, ...) and the features chosen into every symbol name, so
# a list made from any other build matches almost nothing in this one. --check says how many of
# the list's names BIN has (nearly all, for a list made from BIN's own build).
# Runs `serve` under valgrind's callgrind (exact: every function run, not a sample) through a
# workload of the node's own, once on SQLite and once on PostgreSQL: start-up on a new database
# (the migrations run; on PostgreSQL the connections' warm-up too), with its default logging,
# sign-in by password and by page, the load bench's reads and writes, the pages of a member, a
# supporter and a coordinator, REST, metrics, and a minute of background work. The two are
# merged so that each backend's start-up code sits together at the very front: what both run
# first, then SQLite's own, then PostgreSQL's own, then the same three groups for serving.
# Takes about three minutes. Needs valgrind, curl, python3, psql, and PostgreSQL on
# 127.0.0.1:5432 with trust auth (the database alongside_order is dropped and made again);
# ORDER_BACKENDS=sqlite records SQLite alone.
# Write it again before a release: ThinLTO's `.llvm.NNN` suffixes follow the code, so any change
# loses some names. A name that no longer exists is skipped by the linker, a new function is
# placed as if there were no list: an old list costs memory, never correctness.
set -euo pipefail
if [ "${1:-}" = "--check" ]; then
  BIN=$(realpath "$2"); LIST=${3:-$(dirname "$0")/../api/symbol-order.txt}
  found=$(nm "$BIN" | awk '{print $NF}' | sort -u | comm -12 - <(sort -u "$LIST") | wc -l)
  echo "$found of $(wc -l < "$LIST") names in $LIST are in $BIN"
  exit 0
fi
BIN=$(realpath "$1")
OUT=${2:-$(dirname "$0")/../api/symbol-order.txt}
DIR=$(mktemp -d)
trap 'kill ${NODE:-} 2>/dev/null || true; rm -rf "$DIR"' EXIT

# record NAME [NAME=VALUE ...]: one run of the workload, its profile in $DIR/NAME.out (serving)
# and $DIR/NAME.out.1 (up to ready and idle).
record() {
  local name=$1; shift
  local port=$((20000 + RANDOM % 20000)) data="$DIR/$name-data"
  env ALONGSIDE_SECURITY__RATE_LIMITS__ENABLED=false ALONGSIDE_WORKERS=2 "$@" \
    valgrind --tool=callgrind --demangle=no --dump-instr=no --callgrind-out-file="$DIR/$name.out" \
    "$BIN" serve --bind "127.0.0.1:$port" --data-dir "$data" > "$DIR/$name.log" 2>&1 &
  NODE=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break; sleep 0.5; done
  sleep 5   # the first rounds of background work
  callgrind_control --dump=started $NODE > /dev/null 2>&1
  printf '%s' 'correct horse battery staple' | env "$@" "$BIN" admin create-user \
    --email admin@order.test --role admin --role coordinator --data-dir "$data" > /dev/null 2>&1
  workload "http://127.0.0.1:$port"
  sleep 60   # the background jobs: outbox, sweeps, follow-ups
  kill -TERM $NODE; wait $NODE || true
  NODE=
  if [ ! -s "$DIR/$name.out.1" ] || [ ! -s "$DIR/$name.out" ]; then
    echo "no profile from the $name run; its log:" >&2; cat "$DIR/$name.log" >&2; exit 1
  fi
}

workload() {
python3 - "$1" <<'PY'
import http.cookiejar, json, re, sys, time, urllib.parse, urllib.request
base = sys.argv[1]
PASSWORD = "correct horse battery staple"

def call(path, data=None, headers=None, opener=None):
    req = urllib.request.Request(base + path, data=data, headers=headers or {})
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=120) as r:
            return r.read().decode()
    except urllib.error.HTTPError as e:
        return e.read().decode()

def login(email):
    body = json.dumps({"email": email, "password": PASSWORD}).encode()
    out = call("/api/v1/auth/login", body, {"content-type": "application/json"})
    return json.loads(out)["access_token"]

def gql(token, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    out = call("/graphql", body, {"content-type": "application/json", "authorization": "Bearer " + token})
    return json.loads(out).get("data") or {}

admin = login("admin@order.test")
gql(admin, 'mutation { createProgram(input: {name: "Peer support", kind: PEER_SUPPORT, tier: 2, hours: "24/7", contact: "x1", followUpDays: [7, 30]}) { id } }')
gql(admin, 'mutation($i: ResourceInputGql!) { createResource(input: $i) { id } }', {"i": {"kind": "GUIDANCE_CARD", "title": "After a hard shift", "summary": "What helps in the first days.", "body": "Talk with a peer.", "tags": ["self care"], "licence": "CC BY 4.0"}})
create = 'mutation($e: String!, $r: [Role!]!) { createUser(input: {email: $e, displayName: "Order user", profession: NURSE, roles: $r, password: "correct horse battery staple"}) { person { id } } }'
supporters, members = [], []
for i in range(3):
    person = gql(admin, create, {"e": f"s{i}@order.test", "r": ["PEER_SUPPORTER"]})["createUser"]["person"]["id"]
    week = ", ".join(f'{{weekday: {d}, start: "00:00", end: "23:59"}}' for d in ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"])
    gql(admin, 'mutation($id: ID!) { upsertPeerSupporter(input: {personId: $id, trainedOn: "2025-01-01", timeZone: "UTC", caseloadCap: 50, availability: [%s]}) { id } }' % week, {"id": person})
    supporters.append(login(f"s{i}@order.test"))
for i in range(3):
    gql(admin, create, {"e": f"m{i}@order.test", "r": []})
    members.append(login(f"m{i}@order.test"))
reads = ["{ resources(first: 10) { edges { node { id title summary tags } } } }",
         "{ programs(first: 10) { edges { node { id name kind tier hours } } } }",
         "{ mySupportRequests { id state urgency createdAt } }",
         "{ peerSupporters(first: 20) { edges { node { id timeZone caseloadCap person { profession specialty experienceBand languages } } } } }"]
accepted = []
for round in range(3):
    for m in members:
        gql(m, "mutation { requestSupport(input: {modality: PHONE}) { request { id } } }")
        for q in reads:
            gql(m, q)
    for s in supporters:
        for r in gql(s, "{ supportingRequests { id state } }").get("supportingRequests", []):
            if r["state"] == "OFFERED":
                gql(s, "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { id } }", {"id": r["id"]})
                accepted.append((s, r["id"]))
    for s, r in accepted:
        gql(s, "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: UNDER_FIFTEEN, modality: PHONE}) { id } }", {"id": r, "d": time.strftime("%Y-%m-%d")})
    for q in reads:
        gql(admin, q)

# The pages, signed in through the form as a member, a supporter and the coordinator.
def pages(email, paths):
    jar = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    opener = urllib.request.build_opener(jar)
    form = call("/sign-in", opener=opener)
    csrf = re.search(r'name="csrf" value="([^"]*)"', form)
    data = urllib.parse.urlencode({"csrf": csrf.group(1) if csrf else "", "next": "/", "email": email, "password": PASSWORD}).encode()
    call("/sign-in", data, {"content-type": "application/x-www-form-urlencoded"}, opener)
    for p in paths:
        call(p, opener=opener)
for _ in range(2):
    css = re.search(r'href="(/assets/[^"]+)"', call("/"))
    call(css.group(1) if css else "/assets/site.css"); call("/privacy"); call("/sign-in"); call("/talk")
    call("/healthz"); call("/readyz"); call("/metrics")
    pages("m0@order.test", ["/", "/talk", "/requests", "/colleague", "/survey", "/language"])
    pages("s0@order.test", ["/", "/support", "/support/availability", "/requests"])
    pages("admin@order.test", ["/console", "/console/roster", "/console/programs", "/console/events",
                               "/console/metrics", "/console/metrics.csv", "/console/audit",
                               "/console/network", "/console/training", "/console/settings"])
    for p in ["/api/v1/programs", "/api/v1/institution", "/api/v1/metrics", "/api/v1/health", "/api/v1/openapi.json"]:
        call(p, headers={"authorization": "Bearer " + admin})
PY
}

record sqlite
if [ "${ORDER_BACKENDS:-sqlite,postgres}" != sqlite ]; then
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS alongside_order WITH (FORCE)" \
    -c "CREATE DATABASE alongside_order"
  record postgres ALONGSIDE_DATABASE_URL=postgres://postgres@127.0.0.1/alongside_order
fi

# callgrind names each function once, `fn=(id) name`, and by id after; a function's own cost is
# the sum of the cost lines under it. The code run before the node was ready comes first (the
# part dumped then: an idle node touches only that), then the rest. Each of the two is split in
# three, hottest first in each: what both backends ran, what only SQLite ran, what only
# PostgreSQL ran. So either backend's idle node touches one or two runs of code, not three.
PROFILES=("$DIR/sqlite.out.1" "$DIR/sqlite.out")
[ -e "$DIR/postgres.out" ] && PROFILES+=("$DIR/postgres.out.1" "$DIR/postgres.out")
python3 - "$OUT" "${PROFILES[@]}" <<'PY'
import re, sys

def own_costs(path):
    names, cost, current, sub = {}, {}, None, False
    for line in open(path, errors="replace"):
        m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
        if m:
            kind, ident, name = m.groups()
            if name:
                # `name'2` is the same function entered recursively.
                names[ident] = re.sub(r"'\d+$", "", name.strip())
            cost.setdefault(ident, 0)
            if kind == "fn":
                current, sub = ident, False
            continue
        if line.startswith("calls="):
            sub = True  # the next cost line is the call's inclusive cost, not the caller's own
            continue
        if current and line[:1].isdigit():
            if sub:
                sub = False
            elif len(parts := line.split()) > 1:
                cost[current] += int(parts[1])
    total = {}
    for i, c in cost.items():
        # Names valgrind made up for code without a symbol are left out.
        if i in names and not names[i].startswith("0x"):
            total[names[i]] = total.get(names[i], 0) + c
    return total

runs = [own_costs(p) for p in sys.argv[2:]]
starts, rests = runs[0::2], runs[1::2]

def groups(profiles, taken):
    # What every profile ran, then what only the first ran, then only the second.
    names = [set(p) - taken for p in profiles]
    common = set.intersection(*names)
    out = [common] + [n - common for n in names]
    key = lambda n: (-sum(p.get(n, 0) for p in profiles), n)
    return [sorted(g, key=key) for g in out]

start = groups(starts, set())
order = [n for g in start for n in g]
rest = groups(rests, set(order))
order += [n for g in rest for n in g]
if len(starts) == 2:
    print("at start:", " + ".join(str(len(g)) for g in start), "(both, SQLite, PostgreSQL);",
          "serving:", " + ".join(str(len(g)) for g in rest))
with open(sys.argv[1], "w") as f:
    for name in order:
        f.write(name + "\n")
print(f"{len(order)} functions written to {sys.argv[1]}, "
      f"{len(set().union(*starts))} of them run at start, on {len(starts)} backend(s)")
PY
