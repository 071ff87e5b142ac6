# mentorat API: migrates the database named by MENTORAT_DATABASE_URL, then serves on port 8000.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MENTORAT_MIGRATIONS_DIR=/app/migrations

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
# No extra: the image uses the PostgreSQL server that MENTORAT_DATABASE_URL names, so it goes
# without the ~45 MB of embedded PostgreSQL binaries.
RUN pip install . \
    && useradd --create-home --uid 10001 mentorat

USER mentorat
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# `serve` runs the migrations first. The embedded PostgreSQL (extra `mentorat[embedded]`, for
# trying the service out) is not installed: without MENTORAT_DATABASE_URL, `serve` stops at once
# with an error saying so.
CMD ["mentorat", "serve", "--host", "0.0.0.0", "--port", "8000"]
