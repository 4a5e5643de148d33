#!/usr/bin/env bash
# Installs promtool, Prometheus's rule checker and rule unit-test runner, into a project-local folder,
# .tools/prometheus/ by default (PROMTOOL_DIR to choose another): Debian's `prometheus` package (2.42) is
# downloaded and unpacked, never installed system-wide (no service, no user), so no root is needed when the
# package lists are present. promtool is a static Go binary: nothing else from the package is kept.
# Used by test/deploy/prometheus-rules.test.ts (`promtool check rules`, `promtool test rules`).
# Idempotent: nothing is done when it is there.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${PROMTOOL_DIR:-.tools/prometheus}"
if "$target/bin/promtool" --version >/dev/null 2>&1; then exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt's download sandbox user must be able to write here.
chmod 0777 "$work"
if ! apt-cache show prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq >/dev/null; fi
fi
if ! (cd "$work" && apt-get download -qq prometheus >/dev/null 2>&1); then
  echo "could not install promtool: Debian's prometheus package could not be fetched (as root, apt-get update first)" >&2
  exit 1
fi
deb="$(ls "$work"/prometheus_*.deb)"
dpkg-deb -x "$deb" "$work/root"
rm -rf "$target.tmp"
mkdir -p "$target.tmp/bin"
cp "$work/root/usr/bin/promtool" "$target.tmp/bin/promtool"
echo "debian $(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)" >"$target.tmp/SOURCES"
"$target.tmp/bin/promtool" --version >/dev/null
rm -rf "$target"
mv "$target.tmp" "$target"
echo "installed $("$target/bin/promtool" --version 2>&1 | head -n 1) into $target"
