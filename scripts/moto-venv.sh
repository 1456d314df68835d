#!/usr/bin/env bash
# Installs the pinned local AWS emulator (moto server) into the project-local virtualenv `.venv/`.
# Idempotent: does nothing when the pinned version is already there. Prints the path of the server to
# start: tools/moto/moto_server, moto_server with landfall's emulator extensions (tools/moto/server.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MOTO_VERSION="5.2.5"
venv=".venv"
if [[ -x "$venv/bin/moto_server" ]] && "$venv/bin/python" -c "import moto,sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    echo "$PWD/tools/moto/moto_server"
    exit 0
fi
if ! command -v python3 >/dev/null; then
    echo "error: python3 not found; install it (Debian: apt-get install python3 python3-venv)" >&2
    exit 1
fi
echo "==> installing moto[server]==$MOTO_VERSION into $venv" >&2
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
echo "$PWD/tools/moto/moto_server"
