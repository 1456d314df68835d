#!/usr/bin/env bash
# Apply throughput: landfall applying N independent iam_policy resources (one CreatePolicy each) against
# the local emulator, next to a bare SDK client sending the same N calls with the same concurrency.
# The emulator is the bottleneck (one Python process, ~500 requests/s at best); the question is how
# close landfall's executor gets to it.    usage: scripts/bench-apply.sh [N] [PARALLELISM]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-300}"
par="${2:-10}"
cargo build --release --locked --quiet --bin landfall --example raw_create_policies
target="${CARGO_TARGET_DIR:-$PWD/target}/release"
moto_server="$(./scripts/moto-venv.sh)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto_pid=$!
work="$(mktemp -d)"
trap 'kill $moto_pid 2>/dev/null; rm -rf "$work"' EXIT
sleep 2
mkdir -p "$work/environments/bench" "$work/stacks"
printf '[project]\nname = "bench"\nhome_region = "eu-west-1"\n[backend]\nkind = "local"\n' >"$work/landfall.toml"
printf 'stacks = ["bench"]\n' >"$work/environments/bench/env.toml"
cat >"$work/stacks/bench.toml" <<TOML
[iam_policy.p]
count = $n
name = "bench-\${count.index}"
policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] }
TOML
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
export AWS_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
# moto imports a service's code on its first request (about a second): warm IAM up before timing anything.
"$target/examples/raw_create_policies" "http://127.0.0.1:$port" 1 1 >/dev/null
curl -s -X POST "http://127.0.0.1:$port/moto-api/reset" >/dev/null
start=$(date +%s.%N)
"$target/landfall" -C "$work" apply --env bench --auto-approve --parallelism "$par" --refresh=false --stats \
    >"$work/apply.out" 2>"$work/apply.err"
end=$(date +%s.%N)
requests=$(awk '/^  total/ {print $2}' "$work/apply.err")
python3 - "$start" "$end" "$requests" "$n" <<PY
import sys
start, end, requests, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"landfall apply: {n} policies, {requests} requests in {end-start:.2f} s (whole command, incl. plan and state writes): {requests/(end-start):.0f} requests/s")
PY
curl -s -X POST "http://127.0.0.1:$port/moto-api/reset" >/dev/null
"$target/examples/raw_create_policies" "http://127.0.0.1:$port" "$n" "$par" | sed 's/^/raw SDK client: /'
