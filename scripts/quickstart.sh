#!/usr/bin/env bash
# The quick start: builds landfall, starts the local AWS emulator (pinned moto in .venv/, on a free
# loopback port), plans and applies the `sandbox` environment (organization, OUs, accounts, SCPs,
# IAM, and a VPC baseline in every workload account), plans again to show there is nothing left to
# do, and stops the emulator. Works on a copy of the project in a temporary folder, so the
# repository's own state is untouched. Nothing leaves this machine: the emulator listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

echo "==> building landfall"
cargo build --locked --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/debug/landfall"

moto_server="$(./scripts/moto-venv.sh)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
work="$(mktemp -d)"
log="$work/moto.log"
# AWS-managed policies (AdministratorAccess, ReadOnlyAccess...) exist only when moto loads them.
MOTO_IAM_LOAD_MANAGED_POLICIES=true "$moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
cleanup() {
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
    echo "==> emulator stopped; the project copy and its state are in $work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/data.json', timeout=1)" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
echo "==> local AWS emulator on http://127.0.0.1:$port"

cp -r landfall.toml environments stacks modules policies "$work/"
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=quickstart AWS_SECRET_ACCESS_KEY=quickstart AWS_REGION=eu-west-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
lf() { "$bin" -C "$work" "$@"; }

echo "==> landfall validate --env sandbox"
lf validate --env sandbox
echo "==> landfall plan --env sandbox --out sandbox.plan.json"
lf plan --env sandbox --out "$work/sandbox.plan.json" | tail -n 3
echo "==> landfall apply sandbox.plan.json"
lf apply "$work/sandbox.plan.json"
echo "==> landfall plan --env sandbox --detailed-exitcode --stats   (expect: no changes)"
set +e
lf plan --env sandbox --detailed-exitcode --stats
code=$?
set -e
if [[ $code -ne 0 ]]; then
    echo "error: the second plan was not empty (exit $code)" >&2
    exit 1
fi
echo "==> landfall output --env sandbox"
lf output --env sandbox
echo "==> done: the sandbox landing zone was applied and converged"
