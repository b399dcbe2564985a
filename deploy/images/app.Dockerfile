# syntax=docker/dockerfile:1
# The app image (Python 3.13): the front door (target `frontdoor`, the
# default) and the action server (target `actions`), from the same hashed lock
# file as scripts/install.sh (requirements/app.txt, pip --require-hashes).
# The migrations run from the front door image (`python -m bot.db migrate`).
#
#   docker build -f deploy/images/app.Dockerfile --target frontdoor -t hotline-frontdoor:TAG .
#   docker build -f deploy/images/app.Dockerfile --target actions   -t hotline-actions:TAG .
#
# Build context: the repository root (.dockerignore keeps the virtual
# environments, models, var/ and tests out).

FROM python:3.13-slim-bookworm AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements/app.txt /tmp/requirements/app.txt
# As scripts/install.sh: a current pip, then the lock with hashes. The few
# packages without wheels (jieba, docopt, randomname, mattermostwrapper on
# the Rasa side) are pure Python: no compiler is needed.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/python -m pip install --quiet --upgrade "pip>=24" \
 && /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements/app.txt

FROM python:3.13-slim-bookworm AS app
RUN groupadd --system --gid 10001 hotline \
 && useradd --system --uid 10001 --gid hotline --home-dir /app --shell /usr/sbin/nologin hotline \
 && mkdir -p /var/lib/hotline /knowledge \
 && chown hotline:hotline /var/lib/hotline /knowledge
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
# /knowledge: where a deployment mounts the shared knowledge volume
# (KNOWLEDGE_DIR=/knowledge; owned by the app's user, so a named volume Docker
# creates there is writable by it). Its first content is data/knowledge below,
# copied by `python -m bot.knowledge_editor.seed` (docs/deploy.md).
# What the processes read at run time: the code, the knowledge and routing
# data, and what the knowledge editor fingerprints (config, domain, data; the
# scripts it loads by path).
COPY bot/ bot/
COPY channels/ channels/
COPY actions/ actions/
COPY data/ data/
COPY scripts/ scripts/
COPY config.yml domain.yml ./
# HOTLINE_VAR_DIR: generated files and logs; in production every secret comes
# from the environment (the processes refuse to make up their own keys when
# REDIS_URL or DATABASE_URL is set: bot/config.py require_shared_secrets).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOTLINE_VAR_DIR=/var/lib/hotline
USER 10001:10001

FROM app AS actions
ENV SANIC_HOST=0.0.0.0
EXPOSE 5055
# rasa-sdk's own health route, open without the token (bot/action_server.py).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:5055/health', timeout=4)"]
CMD ["python", "-m", "bot.action_server", "--actions", "actions", "--port", "5055"]

FROM app AS frontdoor
ENV HOST=0.0.0.0 PORT=8080
EXPOSE 8080
# /readyz: 200 ("ok" or "degraded" while Rasa restarts) when the store and the
# database answer, 503 when this replica can record nothing (bot/health.py).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '8080'), timeout=4)"]
CMD ["python", "-m", "bot"]
