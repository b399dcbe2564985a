#!/usr/bin/env bash
# Install everything the project needs on a fresh machine:
# a Python 3.10 virtual environment in .venv with the pinned versions of
# constraints.txt, and (as root, when missing) Debian's chromium for the
# browser tests. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in "${PYTHON:-}" python3.10 "$HOME/.pyenv/versions/3.10.13/bin/python" \
                   /root/.pyenv/versions/3.10.13/bin/python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && \
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local v; v=$(pyenv versions --bare | grep -E '^3\.10\.' | tail -n1 || true)
    [ -n "$v" ] && { echo "$(pyenv root)/versions/$v/bin/python"; return 0; }
  fi
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY=$(find_python) || { echo "Python 3.10 is required (Rasa 3.6 supports no newer Python)." >&2; exit 1; }
  echo "==> creating .venv with $PY"
  "$PY" -m venv .venv
fi

stamp=.venv/.installed-$(cat requirements.in constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> installing Python packages (pinned by constraints.txt; takes a few minutes the first time)"
  .venv/bin/python -m pip install --quiet --upgrade "pip<25" wheel
  .venv/bin/python -m pip install --quiet -c constraints.txt -r requirements.in
  rm -f .venv/.installed-*; touch "$stamp"
fi

if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
    || echo "warning: chromium could not be installed; browser tests will be skipped" >&2
fi
echo "==> install done"
