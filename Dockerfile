# The Refurb service image: `docker compose up` builds it (see compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/refurb
COPY pyproject.toml README.md ./
COPY refurb ./refurb
COPY migrations ./migrations
COPY labels ./labels
RUN pip install . \
    && useradd --system --home-dir /srv/refurb --shell /usr/sbin/nologin refurb \
    && mkdir -p /srv/refurb/var && chown refurb /srv/refurb/var

USER refurb
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
CMD ["refurb", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
