# The API image. Pair it with the official Neo4j image: see docker-compose.yml.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY mpdb ./mpdb
RUN uv sync --frozen --no-dev
COPY graph_schema ./graph_schema
COPY graphql ./graphql
COPY auth ./auth
COPY seed ./seed
ENV PATH=/opt/venv/bin:$PATH MPDB_HOST=0.0.0.0 MPDB_STATE_DIR=/var/lib/mpdb
RUN useradd --system --home /var/lib/mpdb mpdb && mkdir -p /var/lib/mpdb && chown mpdb /var/lib/mpdb
USER mpdb
EXPOSE 8000
CMD ["mpdb", "serve"]
