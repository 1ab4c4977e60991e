# Pulse: API, GraphQL and worker in one image.
# With DATABASE_URL and REDIS_URL unset, `pulse serve` runs embedded PostgreSQL and Redis
# under /data. Mount a volume there to keep data; a bind mount must be writable by UID 10001.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY pulse/ pulse/
COPY migrations/ migrations/
COPY schema/ schema/
RUN pip install --no-cache-dir . \
    && rm -rf build *.egg-info

# PostgreSQL refuses to run as root, so the server runs as an unprivileged user.
RUN groupadd --system --gid 10001 pulse \
    && useradd --system --uid 10001 --gid pulse --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin pulse \
    && mkdir -p /data \
    && chown pulse:pulse /data

ENV PULSE_MIGRATIONS_DIR=/app/migrations \
    PULSE_HOST=0.0.0.0 \
    PULSE_DATA_DIR=/data

VOLUME /data
USER pulse
EXPOSE 8000

# The first start initialises PostgreSQL and runs migrations, hence the start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PULSE_PORT', '8000'), timeout=4)"]

CMD ["pulse", "serve"]
