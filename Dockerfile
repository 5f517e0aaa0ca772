FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies in their own layer, at the versions pinned in requirements.lock (scripts/lock.sh refreshes it): the
# layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY pyproject.toml README.md ./
COPY watcher ./watcher
RUN pip install --no-cache-dir --no-deps -c requirements.lock . \
    && rm -rf build ./*.egg-info \
    && mkdir -p /data \
    && chown 10001:10001 /data

COPY config ./config

ENV WATCHER_CONFIG=/app/config \
    WATCHER_DATA_DIR=/data \
    WATCHER_CACHE_DIR=/data/cache \
    WATCHER_HTTP_HOST=0.0.0.0 \
    WATCHER_HTTP_PORT=8080

VOLUME /data
EXPOSE 8080
USER 10001:10001

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["watcher", "healthcheck"]

ENTRYPOINT ["watcher"]
CMD ["run"]
