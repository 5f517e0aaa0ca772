FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md ./
COPY watcher ./watcher
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build watcher.egg-info \
    && mkdir -p /data \
    && chown 10001:10001 /data

COPY config ./config

ENV WATCHER_CONFIG=/app/config \
    WATCHER_DATA_DIR=/data \
    WATCHER_HTTP_HOST=0.0.0.0 \
    WATCHER_HTTP_PORT=8080

VOLUME /data
EXPOSE 8080
USER 10001:10001

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["watcher", "healthcheck"]

ENTRYPOINT ["watcher"]
CMD ["run"]
