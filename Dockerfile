# syntax=docker/dockerfile:1
# The API image. Pair it with the official Neo4j image: see docker-compose.yml and
# docs/OPERATIONS.md (logs, metrics, traces, health checks).

# The console's front-end files come from npm (the lockfile beside mpdb/console/assets/vendor.py).
FROM node:22-slim AS assets
WORKDIR /assets
COPY mpdb/console/assets/package.json mpdb/console/assets/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app

# 1. The dependencies alone, in their own layer: rebuilt only when pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev --no-install-project

# 2. The project (installed in place: it reads graph_schema/, auth/ and seed/ beside the package).
COPY README.md ./
COPY mpdb ./mpdb
COPY graph_schema ./graph_schema
COPY graphql ./graphql
COPY auth ./auth
COPY seed ./seed
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev
RUN --mount=type=bind,from=assets,source=/assets/node_modules,target=/app/mpdb/console/assets/node_modules \
    /opt/venv/bin/python -m mpdb.console.assets.vendor

# 3. Run as an unprivileged user; its state dir holds the shared worker state and metric samples.
RUN useradd --system --uid 10001 --home-dir /var/lib/mpdb mpdb && mkdir -p /var/lib/mpdb && chown mpdb /var/lib/mpdb
ENV PATH=/opt/venv/bin:$PATH MPDB_HOST=0.0.0.0 MPDB_PORT=8000 MPDB_STATE_DIR=/var/lib/mpdb \
    MPDB_LOG_FORMAT=json
USER mpdb
EXPOSE 8000
# Liveness: the process answers (no curl in the slim image). /readyz (Neo4j reachable, schema
# current) is for a load balancer: a database outage must not get the API containers restarted.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('MPDB_PORT', '8000') + '/healthz', timeout=4); sys.exit(r.status != 200)"]
# Worker processes: MPDB_WORKERS (default in prod: one per CPU the container may use).
CMD ["mpdb", "serve"]
