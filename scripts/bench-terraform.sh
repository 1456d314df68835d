#!/usr/bin/env bash
# landfall and Terraform side by side on the same workload and emulator: scripts/gen-scale.py writes the
# landing zone of N accounts for both (landfall's TOML, and with --terraform the equivalent .tf), then
# each tool, on a fresh emulator of its own, applies it and plans again with nothing to change
# (wall time, CPU, peak memory from /usr/bin/time -v). landfall's side is scripts/bench-scale.sh.
#
# usage: scripts/bench-terraform.sh [ACCOUNTS=28] [LATENCY_MS=0] [PARALLELISM=10]
#   28 accounts = 483 landfall resources (651 Terraform resources), 116 = 1,891 (2,499).
#   With LATENCY_MS, both run behind scripts/fault-proxy.py --latency (Terraform's requests are
#   counted there, as `delayed`).
#   TF_TIMEOUT=SECONDS  give up on a Terraform command after this long (default 3600).
#   SKIP_LANDFALL=1     run the Terraform side only (e.g. while landfall's release build is not there).
#   Without a latency, the no-op plan runs twice: straight to the emulator (its times), then through
#   scripts/fault-proxy.py with a 1 us delay, which only counts its requests (`noop.requests`).
#
# Needs terraform (1.11) and the AWS provider 5.100.0 in the filesystem mirror /opt/tf-plugins
# (TF_PLUGINS=DIR for another); nothing is fetched from a registry. Run it with `nice -n 19` on a
# shared machine. Prints one `key: value` line per figure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
accounts="${1:-28}"
latency_ms="${2:-0}"
par="${3:-10}"
plugins="${TF_PLUGINS:-/opt/tf-plugins}"
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

echo "machine: $(nproc) cores, load: $(uptime | sed 's/.*load average: //')"
echo "accounts: $accounts, latency_ms: $latency_ms, parallelism: $par"

if [ "${SKIP_LANDFALL:-0}" != 1 ]; then
    echo "== landfall"
    ./scripts/bench-scale.sh "$accounts" "$latency_ms" "$par" | sed 's/^/landfall./'
fi

echo "== terraform"
project="$work/tf"
python3 scripts/gen-scale.py --accounts "$accounts" --out "$project" --terraform >"$work/gen.out"
cat >"$work/cli.tfrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$plugins"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
EOF
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
terraform -chdir="$project" init -input=false -no-color >"$work/init.out" 2>&1

port="$(free_port)"
MOTO_IAM_LOAD_MANAGED_POLICIES=true "$moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/moto-api/" >/dev/null && break; sleep 0.2; done
endpoint="http://127.0.0.1:$port"
direct="$endpoint"
# start_proxy SECONDS: the fault proxy in front of the emulator, delaying (and counting) every request.
start_proxy() {
    python3 scripts/fault-proxy.py --upstream "$direct" --latency "$1" >"$work/proxy.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do grep -qs listening "$work/proxy.out" && break; sleep 0.1; done
    proxy="http://127.0.0.1:$(awk '/listening/ {print $3}' "$work/proxy.out")"
    endpoint="$proxy"
}
proxy=""
if [ "$latency_ms" != 0 ]; then
    start_proxy "$(echo "$latency_ms / 1000" | bc -l)"
fi

delayed() { [ -z "$proxy" ] && echo 0 || curl -s "$proxy/__faults" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("delayed", 0))'; }

# tf NAME ARGS...: one Terraform command under /usr/bin/time -v; prints its figures.
tf() {
    local name="$1" before start end code=0
    shift
    before="$(delayed)"
    start=$(date +%s.%N)
    timeout "${TF_TIMEOUT:-3600}" /usr/bin/time -v -o "$work/$name.time" \
        terraform -chdir="$project" "$@" -input=false -no-color -parallelism="$par" \
        -var "endpoint=$endpoint" >"$work/$name.out" 2>&1 || code=$?
    end=$(date +%s.%N)
    python3 - "$work" "$name" "$start" "$end" "$code" "$before" "$(delayed)" <<'PY'
import re, sys
work, name, start, end, code, before, after = sys.argv[1:]
t = open(f"{work}/{name}.time").read() if code != "124" else ""
def num(pattern):
    m = re.search(pattern, t)
    return float(m.group(1)) if m else 0.0
print(f"{name}.exit: {code}")
print(f"{name}.wall_s: {float(end) - float(start):.2f}")
cpu = num(r"User time \(seconds\): ([\d.]+)") + num(r"System time \(seconds\): ([\d.]+)")
rss = num(r"Maximum resident set size \(kbytes\): (\d+)")
print(f"{name}.cpu_s: {cpu:.2f}")
print(f"{name}.peak_rss_mb: {rss / 1024:.0f}")
if after != "0":
    print(f"{name}.requests: {int(after) - int(before)}")
PY
}

# The total memory of Terraform and its provider processes (one per provider configuration), sampled
# every second: /usr/bin/time reports only the largest single process.
sample_rss() {
    local max=0 now
    while sleep 1; do
        now=$(ps -eo rss,comm | awk '$2 ~ /^terraform/ {s += $1} END {print s + 0}')
        [ "$now" -gt "$max" ] && max=$now && echo "$max" >"$work/$1.total_rss"
    done
}
sample_rss apply &
sampler=$!
tf apply apply -auto-approve | sed 's/^/terraform./'
kill "$sampler" 2>/dev/null || true
echo "terraform.apply.total_rss_mb: $(($(cat "$work/apply.total_rss" 2>/dev/null || echo 0) / 1024))"
grep -q "Apply complete" "$work/apply.out" || { echo "terraform apply failed:"; tail -30 "$work/apply.out"; exit 1; }
resources=$(terraform -chdir="$project" state list | wc -l)
echo "terraform.resources: $resources"
tf noop plan -detailed-exitcode | sed 's/^/terraform./'
grep -q "No changes" "$work/noop.out" || echo "WARNING: Terraform's plan after apply is not empty"
if [ -z "$proxy" ]; then
    # The same no-op plan again, through a proxy that only counts: its request count.
    start_proxy 0.000001
    tf noop_counted plan -detailed-exitcode | sed 's/^/terraform./'
fi
