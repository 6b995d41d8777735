# lapor-bot in a container: `docker build -t lapor-bot .` from the repository. The build needs
# only the Python package registry (pip); nothing is downloaded at run time.
# Configuration comes from LAPOR_… environment variables (or a config.toml mounted at
# /app/config.toml); see docs/deploy.md and deploy/compose.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The runtime dependencies only (not the test tools): the same set `make run` installs.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY sandbox ./sandbox
RUN pip install . \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin lapor \
    && mkdir -p /app/data /app/exports && chown lapor /app/data /app/exports

USER lapor
# SQLite (the single-process default) keeps its file here; mount a volume on it.
# Health checks and metrics: on the webhook's port in webhook mode, on 9100 in polling mode.
ENV LAPOR_DATABASE__URL=sqlite+aiosqlite:////app/data/lapor.db LAPOR_OPS__PORT=9100 LAPOR_OPS__HOST=0.0.0.0
EXPOSE 8081 9100
COPY deploy/healthcheck.py /usr/local/bin/lapor-healthcheck
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD ["python", "/usr/local/bin/lapor-healthcheck"]
ENTRYPOINT ["lapor-bot"]
CMD ["run"]
