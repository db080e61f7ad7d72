"""Operability: the access log and request metrics (requests.py), Prometheus metrics (metrics.py),
OpenTelemetry traces (tracing.py), the GraphQL operation label (graphql.py) and progress lines for
long jobs (progress.py). What each emits is listed in docs/OPERATIONS.md."""
