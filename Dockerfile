# movie-bot: a serving image with the index built in, and no torch.
#
# Stages, each cached on its own inputs only:
#   ingest-deps  torch (CPU) and the ingest stack, from requirements/ingest.txt (hash-checked)
#   index        the catalog (MOVIES_CSV, checked against MOVIES_SHA256) and the core modules ingest imports ->
#                the index bundle, its never-written page space trimmed; a change to anything else (bot/, search
#                and ranking, scripts, the README) does not rebuild it
#   wheel        the project itself as a wheel
#   runtime      python:3.11-slim + requirements/serve.txt (+ qdrant-client.txt with QDRANT_CLIENT=on) + the
#                index (one copy) + the wheel, as a non-root user
#
# Build from a local catalog instead of the default URL:
#   docker build --build-arg MOVIES_CSV=catalog/tmdb-movies.zip .      (the file put in catalog/)
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS ingest-deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
COPY requirements/ingest.txt requirements/ingest.txt
# torch==2.13.0+cpu is pinned (with its hash) in the lock; the CPU index is where that build lives. It is asked
# for torch alone: asked about every package, an unreachable index would cost a timeout on each.
RUN sed -n '/^torch==/,/^ *#/p' requirements/ingest.txt > /tmp/torch.txt \
 && pip install --require-hashes --no-deps -r /tmp/torch.txt --extra-index-url https://download.pytorch.org/whl/cpu \
 && pip install --require-hashes --no-deps -r requirements/ingest.txt && rm /tmp/torch.txt

FROM ingest-deps AS index
# The seed's public copy; its CSV (plain, or zipped) must have this sha256.
ARG MOVIES_CSV=https://hongtaoh.com/files/tmdb-movies.csv
ARG MOVIES_SHA256=c148ca17c3c2fe117048c7f6565374496f831ccdbddd91c5f8214a533679650f
COPY scripts/fetch_catalog.py catalog/ ./catalog/
RUN python catalog/fetch_catalog.py "$MOVIES_CSV" "$MOVIES_SHA256" /build/movies.catalog
# Only the modules ingest imports (tests/deploy/test_platform_files.py keeps this list equal to their import
# closure): a change to searching, ranking, the adapters or the scripts rebuilds the image without embedding the
# catalog again.
COPY core/__init__.py core/catalog.py core/documents.py core/domain.py core/errors.py core/genres.py \
     core/ingest.py core/models.py core/settings.py core/sparse.py core/text_fold.py core/
COPY core/embedding/__init__.py core/embedding/model_source.py core/embedding/onnx_encoder.py \
     core/embedding/onnx_export.py core/embedding/packing.py core/embedding/port.py core/embedding/st_encoder.py \
     core/embedding/threads.py core/embedding/wordpiece.py core/embedding/wordpiece_tables.py core/embedding/
COPY core/index/__init__.py core/index/bundle.py core/index/edge.py core/index/facts_file.py core/index/manifest.py \
     core/index/port.py core/index/lexical_table.py core/index/records.py core/index/server.py core/index/
COPY scripts/compact_bundle.py ./
# Then, in the same step (a committed layer no longer knows which bytes are holes): drop what serving never reads,
# ingest's vector cache and the never-written space of Qdrant's preallocated page files, which a layer would
# store as zeros; and keep the resolved version directory only.
RUN INDEX_PATH=/build/index QDRANT_URL= HF_HUB_OFFLINE=1 python -c "import sys; \
from core.ingest import run_ingest; from core.settings import load_settings; \
print('\n'.join(run_ingest(load_settings(), sys.argv[1], progress=False).lines()))" /build/movies.catalog \
 && python compact_bundle.py "$(readlink -f /build/index)" \
 && mv "$(readlink -f /build/index)" /index

FROM ${PYTHON_IMAGE} AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core/ core/
COPY bot/ bot/
COPY scripts/ scripts/
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS runtime
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    INDEX_PATH=/app/index
RUN groupadd --system --gid 10001 moviebot \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/moviebot moviebot
# QDRANT_CLIENT=on adds the Qdrant client and its gRPC stack, for QDRANT_URL: a Qdrant server or Qdrant Cloud
# instead of the index built in.
ARG QDRANT_CLIENT=off
COPY requirements/serve.txt requirements/qdrant-client.txt /tmp/requirements/
# Then out go the parts of the installed packages that serving never imports: numpy's own test suites and
# onnxruntime's model-conversion tools (transformers, quantization, tools).
RUN pip install --require-hashes --no-deps -r /tmp/requirements/serve.txt \
 && if [ "$QDRANT_CLIENT" = on ]; then pip install --require-hashes --no-deps -r /tmp/requirements/qdrant-client.txt; fi \
 && rm -rf /tmp/requirements \
 && site="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
 && find "$site/numpy" -depth -type d -name tests -exec rm -rf {} + \
 && rm -rf "$site/onnxruntime/transformers" "$site/onnxruntime/quantization" "$site/onnxruntime/tools"
# The resolved version directory only: the bundle's symlink and versions folder would store it twice.
# Owned by the runtime user: Qdrant Edge opens its storage files read-write.
COPY --from=index --chown=10001:10001 /index /app/index
COPY --from=wheel /wheels/ /tmp/wheels/
RUN pip install --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels
WORKDIR /app
USER moviebot
# PORT is unset by default (a worker); set it for /healthz, SEARCH_API or Telegram webhooks.
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["movie-bot", "serve"]
