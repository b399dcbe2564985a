#!/usr/bin/env bash
# Install everything the project needs on a fresh machine, in two virtual
# environments that meet only over HTTP:
#   .venv-rasa  Python 3.10 (the newest Rasa 3.6 supports): Rasa, hotline_rasa
#               and the Rasa-side tests, from requirements/rasa.txt;
#   .venv       Python 3.13: the front door, the console, the tickets, the
#               action server, the tests and the tools, from
#               requirements/app.txt and app-dev.txt;
# both installed with pip --require-hashes from the committed lock files
# (`make lock` re-compiles them with uv). As root, when missing, Debian's
# chromium for the browser tests and nginx (make cluster). Safe to run again: it only does what is
# missing or what a changed lock file asks for.
set -euo pipefail
cd "$(dirname "$0")/.."

# find_python MAJOR.MINOR [VAR]: an interpreter of that version, from $VAR,
# the PATH or pyenv.
find_python() {
  local want=$1 override=${2:-}
  for candidate in "$override" "python$want" "$HOME/.pyenv/versions/$want"*/bin/python \
                   /root/.pyenv/versions/"$want"*/bin/python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && \
       "$candidate" -c "import sys; sys.exit(sys.version[:len('$want')+1] != '$want.')" 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local v; v=$(pyenv versions --bare | grep -E "^${want//./\\.}\." | tail -n1 || true)
    [ -n "$v" ] && { echo "$(pyenv root)/versions/$v/bin/python"; return 0; }
  fi
  return 1
}

# make_venv DIR MAJOR.MINOR OVERRIDE LOCK...: create DIR with that Python and
# install the lock files into it when they changed since the last install.
make_venv() {
  local dir=$1 want=$2 override=$3; shift 3
  if [ -x "$dir/bin/python" ] && \
     ! "$dir/bin/python" -c "import sys; sys.exit(sys.version[:len('$want')+1] != '$want.')"; then
    echo "==> $dir is not Python $want: recreating it"
    rm -rf "$dir"
  fi
  if [ ! -x "$dir/bin/python" ]; then
    local py
    py=$(find_python "$want" "$override") || { echo "Python $want is required for $dir." >&2; exit 1; }
    echo "==> creating $dir with $py"
    "$py" -m venv "$dir"
  fi
  local stamp
  stamp="$dir/.installed-$(cat "$@" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "==> installing $dir from $* (hash-checked; a few minutes the first time)"
    "$dir/bin/python" -m pip install --quiet --upgrade "pip>=24"
    local args=()
    for lock in "$@"; do args+=(-r "$lock"); done
    "$dir/bin/python" -m pip install --quiet --require-hashes --no-deps "${args[@]}"
    rm -f "$dir"/.installed-*; touch "$stamp"
  fi
}

make_venv .venv-rasa 3.10 "${RASA_PYTHON:-}" requirements/rasa.txt &
rasa_pid=$!
make_venv .venv 3.13 "${APP_PYTHON:-}" requirements/app.txt requirements/app-dev.txt
wait "$rasa_pid"

if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
    || echo "warning: chromium could not be installed; browser tests will be skipped" >&2
fi
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Debian's nginx (make cluster, nginx -t in make test)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null) \
    || echo "warning: nginx could not be installed; make cluster and the nginx check will fail" >&2
fi
echo "==> install done"
