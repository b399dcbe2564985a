#!/usr/bin/env bash
# Re-compile the lock files of both environments from requirements/*.in, with
# hashes, for Linux x86_64 (`make lock`). uv comes from the app environment's
# dev group (requirements/app-dev.txt); it never downloads an interpreter.
# The Rasa lock keeps Rasa's own pins: it is compiled against the previous
# rasa.txt as constraints, so only what rasa.in changes moves.
set -euo pipefail
cd "$(dirname "$0")/../requirements"
export UV_PYTHON_DOWNLOADS=never
UV=../.venv/bin/uv
[ -x "$UV" ] || { echo "run make install first (uv comes with the app environment)" >&2; exit 1; }
platform=(--python-platform x86_64-manylinux_2_28 --generate-hashes --quiet)
"$UV" pip compile "${platform[@]}" --python-version 3.13 app.in -o app.txt
"$UV" pip compile "${platform[@]}" --python-version 3.13 app-dev.in -o app-dev.txt
cp rasa.txt /tmp/rasa-previous.txt 2>/dev/null || : >/tmp/rasa-previous.txt
"$UV" pip compile "${platform[@]}" --python-version 3.10 rasa.in -c /tmp/rasa-previous.txt -o rasa.txt
echo "locked: requirements/app.txt app-dev.txt rasa.txt"
