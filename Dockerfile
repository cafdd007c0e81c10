FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY daemon ./daemon
COPY alerts ./alerts
COPY storage ./storage
RUN pip install --no-cache-dir . \
    && useradd --system --home /app newswatch \
    && mkdir -p /app/data /app/drops \
    && chown -R newswatch /app/data /app/drops
COPY settings.toml ./settings.toml

USER newswatch
VOLUME ["/app/data", "/app/drops"]
ENTRYPOINT ["newswatch", "--settings", "/app/settings.toml"]
CMD ["run"]
