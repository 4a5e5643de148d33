#!/usr/bin/env bash
# Installs what the searchable PDF is built with into a project-local folder, .tools/qpdf/ by default
# (QPDF_DIR to choose another): qpdf, which lays the text layer over the original pages (Debian's qpdf and
# libqpdf packages), and tesseract's glyphless font pdf.ttf, the text layer's font (from Debian's
# libtesseract package: 572 bytes, one blank glyph). The packages are downloaded and unpacked, never installed
# system-wide, so no root is needed when the package lists are present. Never a CDN, never at run time.
# Idempotent: nothing is done when both are there. bin/qpdf is a wrapper that runs the unpacked binary
# against its own libqpdf; the font is share/pdf.ttf.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${QPDF_DIR:-.tools/qpdf}"
if [ -s "$target/share/pdf.ttf" ] && "$target/bin/qpdf" --version >/dev/null 2>&1; then exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt's download sandbox user must be able to write here.
chmod 0777 "$work"
if ! apt-cache show qpdf >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq >/dev/null; fi
fi
library="$(apt-cache depends qpdf 2>/dev/null | sed -n 's/^ *Depends: \(libqpdf[0-9]*\)$/\1/p' | head -n 1)"
tesseract="$(apt-cache depends tesseract-ocr 2>/dev/null | sed -n 's/^ *Depends: \(libtesseract[0-9]*\)$/\1/p' | head -n 1)"
if [ -z "$library" ] || [ -z "$tesseract" ] ||
  ! (cd "$work" && apt-get download -qq qpdf "$library" "$tesseract" >/dev/null 2>&1); then
  echo "could not install qpdf and the glyphless font: Debian's qpdf, libqpdf and libtesseract packages could not be fetched (as root, apt-get update first)" >&2
  exit 1
fi
rm -rf "$target.tmp"
mkdir -p "$target.tmp/bin"
for deb in "$work"/*.deb; do
  if [ "$(dpkg-deb -f "$deb" Package)" = "$tesseract" ]; then
    # Only the font: the OCR library itself is not Folio's (tesseract.js reads the pages).
    dpkg-deb -x "$deb" "$work/tesseract"
    mkdir -p "$target.tmp/share"
    cp "$(find "$work/tesseract" -name pdf.ttf | head -n 1)" "$target.tmp/share/pdf.ttf"
  else
    dpkg-deb -x "$deb" "$target.tmp/root"
  fi
  echo "debian $(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)" >>"$target.tmp/SOURCES"
done
cat >"$target.tmp/bin/qpdf" <<'WRAPPER'
#!/bin/sh
here="$(dirname "$(readlink -f "$0")")/.."
LD_LIBRARY_PATH="$(echo "$here"/root/usr/lib/*-linux-gnu | tr ' ' ':'):$here/root/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/root/usr/bin/qpdf" "$@"
WRAPPER
chmod +x "$target.tmp/bin/qpdf"
"$target.tmp/bin/qpdf" --version >/dev/null
[ -s "$target.tmp/share/pdf.ttf" ]
rm -rf "$target"
mv "$target.tmp" "$target"
echo "installed $("$target/bin/qpdf" --version | head -n 1) into $target"
