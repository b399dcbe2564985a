#!/usr/bin/env bash
# `nginx -t` on the rendered nginx configuration (deploy/nginx/templates), a
# step of `make test`. Needs Debian's nginx (scripts/install.sh installs it as
# root); without it the check fails and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [ ! -x "$NGINX" ]; then
  echo "nginx is not installed: run scripts/install.sh as root (apt-get install nginx)" >&2
  exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
scripts/nginx_render.sh "$dir" 127.0.0.1:18081 127.0.0.1:18082 18080
"$NGINX" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"
echo "nginx -t: deploy/nginx/templates/hotline.conf.template is valid"
