# Two stages: the builder has torch to ingest and export the ONNX encoder; the runtime image has none of it.
FROM python:3.11-slim AS builder
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir ".[ingest]"
ARG MOVIES_CSV
RUN INDEX_PATH=/app/index movie-bot ingest ${MOVIES_CSV:+--csv "$MOVIES_CSV"}

FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir ".[telegram,discord,server]"
COPY --from=builder /app/.index.versions /app/.index.versions
COPY --from=builder /app/index /app/index
ENV INDEX_PATH=/app/index PYTHONUNBUFFERED=1
STOPSIGNAL SIGTERM
CMD ["movie-bot", "serve"]
