#!/usr/bin/env bash
# Installs schemathesis (the API fuzzer run by test/e2e/fuzz.test.ts) from PyPI into a project-local
# virtual environment, .venv-fuzz/ (nothing system-wide). Pinned; idempotent: does nothing when that
# version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
version="4.32.5"
venv=.venv-fuzz
if [ -x "$venv/bin/st" ] && "$venv/bin/python" -m pip show schemathesis 2>/dev/null | grep -qx "Version: $version"; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version"
"$venv/bin/st" --version
