#!/usr/bin/env bash
# Start the local Redis and PostgreSQL if they are not answering (the commands
# are this machine kind's own; see the README). Tests use them over real
# connections.
set -uo pipefail
if ! (redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG); then
  echo "==> starting redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "==> starting postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
for _ in $(seq 1 30); do
  redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && pg_isready -h 127.0.0.1 -p 5432 -q && exit 0
  sleep 1
done
echo "Redis or PostgreSQL did not start; see the README's 'Services' section" >&2
exit 1
