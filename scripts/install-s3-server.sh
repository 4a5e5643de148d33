#!/usr/bin/env bash
# Installs versitygw, a real S3-compatible server (Apache-2.0), into a project-local folder,
# .tools/versitygw/bin/ by default (VERSITYGW_DIR to choose another). The tests start it on a free port with its
# posix backend (a folder per bucket); nothing uses it at run time in production. Built from source through the Go
# module proxy with `go install` (no root needed; ~70 s on 2 cores). Idempotent: nothing is done when it is there.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${VERSITYGW_VERSION:-v1.8.0}"
target="${VERSITYGW_DIR:-.tools/versitygw}"
if [ -x "$target/bin/versitygw" ] && "$target/bin/versitygw" --version >/dev/null 2>&1; then exit 0; fi
go="$(command -v go || true)"
if [ -z "$go" ] && [ -x /usr/local/go/bin/go ]; then go=/usr/local/go/bin/go; fi
if [ -z "$go" ]; then
  echo "could not install versitygw: the Go toolchain (go) is not installed" >&2
  exit 1
fi
mkdir -p "$target"
rm -rf "$target/bin.tmp"
GOBIN="$(cd "$target" && pwd)/bin.tmp" GOFLAGS="${GOFLAGS:--buildvcs=false}" \
  "$go" install "github.com/versity/versitygw/cmd/versitygw@$version"
"$target/bin.tmp/versitygw" --version >/dev/null
rm -rf "$target/bin"
mv "$target/bin.tmp" "$target/bin"
echo "go github.com/versity/versitygw/cmd/versitygw@$version" >"$target/SOURCES"
echo "installed versitygw $version into $target"
