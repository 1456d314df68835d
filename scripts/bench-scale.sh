#!/usr/bin/env bash
# Organization scale: generates a landing zone of N accounts with a per-account baseline
# (scripts/gen-scale.py, 25 resources per account: 28 accounts = 763 resources, 116 = 3,051,
# 1000 = 26,035), then on a fresh emulator: plan, apply, no-op plan, each with --stats, wall time,
# CPU and peak memory (/usr/bin/time -v). Optionally behind the latency proxy
# (scripts/fault-proxy.py --latency, every request delayed; account creations held IN_PROGRESS for a
# while, as AWS does).
#
# usage: scripts/bench-scale.sh [ACCOUNTS=28] [LATENCY_MS=0] [PARALLELISM=10] [CREATE_ACCOUNT_S=0]
#   CRITICAL=1  also applies on a second fresh emulator at parallelism 1000: that run's wall time is
#               the critical path, for the bound max(critical path, requests x latency / parallelism).
#   KEEP=DIR    keep the project and the outputs in DIR.
#   BARRIER=0   generate the workloads stack without its stack-level `depends_on = ["organization"]`
#               (each account's baseline waits for its own account only, not for the whole organization).
#   LANDFALL_BIN=PATH  run that binary instead of building a release one.
# Behind the proxy the no-op plan runs twice: first against the emulator (its reads recorded by the
# proxy, `--reads record`), then on the proxy's --replay-port, every read answered from that recording
# after the fixed delay (`noop_replayed`: nothing reaches the emulator, so the figure is landfall's under pure per-request
# latency, as against AWS, which answers concurrent requests in parallel; moto is one Python process).
# The emulator runs under `nice -n 10`, landfall and the proxy do not (so the latency figures are
# landfall's and the proxy's, not the emulator's queue). Prints one `key: value` line per figure;
# behind the proxy also each run's round trips, busy_s (the sum of its requests' durations) and
# mean_in_flight (scripts/round-trips.py on the proxy's request log), and apply.busy_bound_s =
# busy_s / parallelism: the request bound with the emulator's answer times instead of the latency.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
accounts="${1:-28}"
latency_ms="${2:-0}"
par="${3:-10}"
hold="${4:-0}"
if [ -n "${LANDFALL_BIN:-}" ]; then
    bin="$LANDFALL_BIN" # e.g. a debug build: request and state-write counts do not depend on it
else
    cargo build --release --locked --quiet --bin landfall
    bin="${CARGO_TARGET_DIR:-$PWD/target}/release/landfall"
fi
moto_server="$(./scripts/moto-venv.sh)"
work="${KEEP:-$(mktemp -d)}"
mkdir -p "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A fresh emulator (and proxy); sets $endpoint.
start_aws() {
    local port proxy_port
    port="$(free_port)"
    MOTO_IAM_LOAD_MANAGED_POLICIES=true nice -n 10 "$moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
    pids+=($!)
    emulator_pid=$!
    for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/moto-api/" >/dev/null && break; sleep 0.2; done
    endpoint="http://127.0.0.1:$port"
    if [ "$latency_ms" != 0 ] || [ "$hold" != 0 ]; then
        requests_log="$work/requests.$port"
        python3 scripts/fault-proxy.py --upstream "$endpoint" --latency "$(echo "$latency_ms / 1000" | bc -l)" \
            --create-account-seconds "$hold" --log "$requests_log" --replay-port 0 >"$work/proxy.$port" 2>&1 &
        pids+=($!)
        for _ in $(seq 50); do grep -qs replaying "$work/proxy.$port" && break; sleep 0.1; done
        proxy_port="$(awk '/listening/ {print $3}' "$work/proxy.$port")"
        endpoint="http://127.0.0.1:$proxy_port"
        replay_endpoint="http://127.0.0.1:$(awk '/replaying/ {print $3}' "$work/proxy.$port")"
    fi
}

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=eu-west-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

# run NAME PROJECT ARGS...: runs landfall under /usr/bin/time -v; figures land in $work/NAME.*
# (behind the proxy, NAME.requests is the run's part of the proxy's request log)
requests_log=""
run() {
    local name="$1" dir="$2"
    shift 2
    local start end logged=0
    [ -z "$requests_log" ] || logged=$(wc -l <"$requests_log" 2>/dev/null || echo 0)
    start=$(date +%s.%N)
    AWS_ENDPOINT_URL="$endpoint" /usr/bin/time -v -o "$work/$name.time" \
        "$bin" -C "$dir" "$@" --env scale --stats >"$work/$name.out" 2>"$work/$name.err" || true
    end=$(date +%s.%N)
    echo "$start $end" >"$work/$name.wall"
    [ -z "$requests_log" ] || tail -n "+$((logged + 1))" "$requests_log" >"$work/$name.requests"
}

figures_of() {
    python3 - "$work" "$1" <<'PY'
import re, sys
work, name = sys.argv[1], sys.argv[2]
start, end = map(float, open(f"{work}/{name}.wall").read().split())
t = open(f"{work}/{name}.time").read()
err = open(f"{work}/{name}.err").read()
user = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1))
system = float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
total = re.search(r"^  total\s+(\d+)", err, re.M)
writes = re.search(r"^State writes: (\d+) \((\d+) bytes\)", err, re.M)
print(f"{name}.wall_s: {end - start:.2f}")
print(f"{name}.cpu_s: {user + system:.2f}")
print(f"{name}.peak_rss_mb: {rss / 1024:.0f}")
print(f"{name}.requests: {total.group(1) if total else 0}")
if writes:
    print(f"{name}.state_writes: {writes.group(1)}")
    print(f"{name}.state_bytes: {writes.group(2)}")
PY
}

# figures NAME: prints and keeps the figures of run NAME (and its round trips behind the proxy).
figures() {
    figures_of "$1" | tee "$work/$1.fig"
    if [ -s "$work/$1.requests" ]; then
        python3 scripts/round-trips.py "$work/$1.requests" |
            awk -v n="$1" '/^(round_trips|busy_s|mean_in_flight):/ {print n "." $0}' | tee -a "$work/$1.fig"
    fi
}

project="$work/project"
gen_args=()
[ "${BARRIER:-1}" != 0 ] || gen_args+=(--no-stack-depends-on)
python3 scripts/gen-scale.py --accounts "$accounts" --out "$project" "${gen_args[@]}" >"$work/gen.out"
sed -i "s/^parallelism = .*/parallelism = $par/" "$project/landfall.toml"
echo "machine: $(nproc) cores, load: $(uptime | sed 's/.*load average: //')"
echo "accounts: $accounts, latency_ms: $latency_ms, parallelism: $par, create_account_s: $hold, barrier: ${BARRIER:-1}"
start_aws
run plan "$project" plan
figures plan
run apply "$project" apply --auto-approve
figures apply
grep -q "Apply complete" "$work/apply.out" "$work/apply.err" || { echo "apply failed:"; tail -20 "$work/apply.err"; exit 1; }
reads() { [ -z "$requests_log" ] || curl -sf -X POST "$endpoint/__reads?mode=$1" >/dev/null; }
reads record
run noop "$project" plan --detailed-exitcode
figures noop
if [ -n "$requests_log" ]; then
    reads off
    recorded="$endpoint"
    endpoint="$replay_endpoint"
    run noop_replayed "$project" plan --detailed-exitcode
    endpoint="$recorded"
    figures noop_replayed
    curl -sf "$endpoint/__faults" | python3 -c 'import json,sys; c=json.load(sys.stdin); [print(f"noop_replayed.{k}: {c[k]}") for k in ("replayed", "replay_missed")]'
    grep -q "No changes" "$work/noop_replayed.out" || echo "WARNING: the replayed no-op plan is not empty"
fi
resources=$("$bin" -C "$project" state list --env scale | wc -l)
state_bytes=$(cat "$project"/.landfall/state/scale/*.json | wc -c)
echo "resources: $resources"
echo "emulator_peak_rss_mb: $(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$emulator_pid/status")"
echo "final_state_bytes: $state_bytes"
grep -q "No changes" "$work/noop.out" || echo "WARNING: the plan after apply is not empty"
python3 - "$work" "$resources" "$state_bytes" "$latency_ms" "$par" <<'PY'
import re, sys
work, n, size, latency_ms, par = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
def fig(name, key):
    for line in open(f"{work}/{name}.fig"):
        k, v = line.split(": ")
        if k == f"{name}.{key}":
            return float(v)
    return 0.0
print(f"apply.cpu_ms_per_resource: {1000 * fig('apply', 'cpu_s') / n:.2f}")
print(f"apply.requests_per_resource: {fig('apply', 'requests') / n:.2f}")
print(f"apply.state_bytes_per_final_state: {fig('apply', 'state_bytes') / size:.1f}")
print(f"noop.requests_per_resource: {fig('noop', 'requests') / n:.3f}")
if latency_ms:
    print(f"apply.request_bound_s: {fig('apply', 'requests') * latency_ms / 1000 / par:.2f}")
    # The same with each request's real duration (latency + the emulator's time to answer it).
    print(f"apply.busy_bound_s: {fig('apply', 'busy_s') / par:.2f}")
PY
if [ "${CRITICAL:-0}" = 1 ]; then
    # The same apply with nothing waiting for a free slot: its wall time is the critical path.
    cp -r "$project" "$work/critical"
    rm -rf "$work/critical/.landfall"
    sed -i "s/^parallelism = .*/parallelism = 1000/" "$work/critical/landfall.toml"
    start_aws
    run critical "$work/critical" apply --auto-approve
    figures critical
fi
