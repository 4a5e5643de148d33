#!/usr/bin/env bash
# Installs clamd, ClamAV's scanning daemon, into a project-local folder, .tools/clamav/ by default
# (CLAMAV_DIR to choose another): Debian's clamav-daemon and libclamav packages, plus those of their
# libraries this machine lacks, are downloaded and unpacked, never installed system-wide (no service, no
# user, no freshclam), so no root is needed when the package lists are present. Used by the malware-scan
# test (test/e2e/malware.test.ts), which starts clamd with a signature database of its own; production
# runs clamd from its own image or package with freshclam's databases (docs/operations.md "Malware scan").
# (`clamd --version` alone wants /etc/clamav/clamd.conf: `-c /dev/null` names none.)
# Idempotent: nothing is done when it is there. bin/clamd is a wrapper that runs the unpacked binary
# against its own libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CLAMAV_DIR:-.tools/clamav}"
if "$target/bin/clamd" --version -c /dev/null >/dev/null 2>&1; then exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt's download sandbox user must be able to write here.
chmod 0777 "$work"
if ! apt-cache show clamav-daemon >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq >/dev/null; fi
fi
library="$(apt-cache depends clamav-daemon 2>/dev/null | sed -n 's/^ *Depends: \(libclamav[0-9]*\)$/\1/p' | head -n 1)"
packages=(clamav-daemon)
if [ -n "$library" ]; then
  packages+=("$library")
  # The libraries clamd and libclamav link that are not installed here (on a slim image: libmspack,
  # libjson-c and the like); those present are used as they are.
  for dep in $(apt-cache depends clamav-daemon "$library" 2>/dev/null | sed -n 's/^ *Depends: \(lib[^ <>]*\)$/\1/p' | sort -u); do
    [ "$dep" = "$library" ] && continue
    if ! dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q 'install ok installed'; then packages+=("$dep"); fi
  done
fi
if [ -z "$library" ] || ! (cd "$work" && apt-get download -qq "${packages[@]}" >/dev/null 2>&1); then
  echo "could not install clamd: Debian's clamav-daemon and libclamav packages could not be fetched (as root, apt-get update first)" >&2
  exit 1
fi
rm -rf "$target.tmp"
mkdir -p "$target.tmp/bin"
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$target.tmp/root"
  echo "debian $(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)" >>"$target.tmp/SOURCES"
done
# Only what running clamd needs: the daemon and the libraries.
rm -rf "$target.tmp/root/usr/share/doc" "$target.tmp/root/usr/share/man" "$target.tmp/root/etc" "$target.tmp/root/lib/systemd"
cat >"$target.tmp/bin/clamd" <<'WRAPPER'
#!/bin/sh
here="$(dirname "$(readlink -f "$0")")/.."
LD_LIBRARY_PATH="$(echo "$here"/root/usr/lib/*-linux-gnu "$here"/root/lib/*-linux-gnu | tr ' ' ':')${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/root/usr/sbin/clamd" "$@"
WRAPPER
chmod +x "$target.tmp/bin/clamd"
"$target.tmp/bin/clamd" --version -c /dev/null >/dev/null
rm -rf "$target"
mv "$target.tmp" "$target"
echo "installed $("$target/bin/clamd" --version -c /dev/null | head -n 1) into $target"
