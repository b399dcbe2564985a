# syntax=docker/dockerfile:1
# Rasa 3.6 with hotline_rasa (Python 3.10), from the same hashed lock file as
# scripts/install.sh (requirements/rasa.txt, pip --require-hashes). It holds
# no model and never trains: the model is a versioned artifact (`make model`,
# deploy/images/model.Dockerfile) mounted read-only at /models, and
# MODEL_VERSION names the one to load (hotline_rasa/deployment.py: a missing
# version or a checksum mismatch stops the start).
#
#   docker build -f deploy/images/rasa.Dockerfile -t hotline-rasa:TAG .

FROM python:3.10-slim-bookworm AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements/rasa.txt /tmp/requirements/rasa.txt
# As scripts/install.sh: a current pip, then the lock with hashes. The few
# packages without wheels (jieba, docopt, randomname, mattermostwrapper on
# the Rasa side) are pure Python: no compiler is needed.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/python -m pip install --quiet --upgrade "pip>=24" \
 && /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements/rasa.txt

FROM python:3.10-slim-bookworm
RUN groupadd --system --gid 10001 rasa \
 && useradd --system --uid 10001 --gid rasa --create-home --home-dir /home/rasa --shell /usr/sbin/nologin rasa \
 && mkdir -p /var/lib/hotline /models \
 && chown rasa:rasa /var/lib/hotline
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY hotline_rasa/ hotline_rasa/
# The Cantonese word table hotline_rasa/cantonese.py reads on every message
# (shared with the action server's image, which copies all of data/).
COPY data/language/ data/language/
COPY endpoints.yml endpoints.redis.yml credentials.yml ./
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/rasa \
    HOTLINE_VAR_DIR=/var/lib/hotline \
    MODELS_DIR=/models \
    RASA_TELEMETRY_ENABLED=false
USER 10001:10001
EXPOSE 5005
# GET / answers once the server runs, and `rasa run` loads the model before
# it listens (the probe Rasa's own Helm chart uses); /status needs the token.
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=6 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:5005/', timeout=4)"]
# endpoints.redis.yml: tracker and lock stores in Redis (REDIS_URL), the action
# server at ACTION_SERVER_URL; the tokens from RASA_AUTH_TOKEN / ACTION_SERVER_TOKEN.
CMD ["python", "-m", "hotline_rasa", "run", "--enable-api", "--interface", "0.0.0.0", "--port", "5005", \
     "--model", "/models", "--endpoints", "endpoints.redis.yml", "--credentials", "credentials.yml"]
