#!/usr/bin/env bash
# Installs what is missing for Madoguchi on Debian 12: apt packages (as root, or through sudo)
# and a virtual environment with the project (the OCR engine and its models come with it, from
# the package index: rapidocr's wheel). Quick and silent when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  tesseract-ocr tesseract-ocr-jpn tesseract-ocr-osd   # page orientation, and OCR where rapidocr is off
  poppler-utils                                       # pdftoppm: PDF pages to images
  libreoffice-writer-nogui                            # DOCX to PDF
  fonts-ipaexfont fonts-ipafont-gothic fonts-ipafont-mincho  # Japanese fonts
  poppler-data                                        # CJK rendering in pdftoppm
  chromium chromium-driver                            # browser tests
  dovecot-imapd                                       # the IMAP server the mail tests start (no service is run)
)
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  APT_PACKAGES+=(python3-venv)
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

VENV=.venv
STAMP="$VENV/.installed"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  python3 -m venv "$VENV"
fi
# Reinstall only when the project's dependencies changed.
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "setup: installing the project into $VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  "$VENV/bin/pip" install -q -e '.[test]'
  touch "$STAMP"
fi
