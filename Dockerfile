# gitfunc on Node 20. Build: docker build -t gitfunc .
# Run:   docker run -p 8088:8088 -v gitfunc-data:/data -e GITFUNC_REPO=https://git.example.com/team/functions.git gitfunc
# (GITFUNC_REPO unset: the bundled functions.example is served.)

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (the build) needs the sources, copied below; the one native
# module is then built (or its prebuilt binary fetched) on its own.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    GITFUNC_SNAPSHOT_DIR=/app/snapshot
RUN groupadd --system gitfunc \
 && useradd --system --gid gitfunc --home-dir /app --shell /usr/sbin/nologin gitfunc \
 && mkdir -p /data /app/snapshot \
 && chown gitfunc:gitfunc /data /app/snapshot
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY config ./config
COPY stubs ./stubs
COPY functions.example ./functions.example
USER gitfunc
# The interpreter snapshot, built now so no container pays for it at start: `gitfunc check`
# builds it into GITFUNC_SNAPSHOT_DIR as `serve` would. Outside /data, so a mounted volume
# does not hide it; its key (Pyodide build, gitfunc version, shim) matches this image only.
RUN node bin/gitfunc.js check functions.example --data-dir /tmp/gitfunc-check \
 && rm -rf /tmp/gitfunc-check \
 && ls /app/snapshot/interpreter-*.snapshot
VOLUME ["/data"]
EXPOSE 8088
# On SIGTERM /readyz turns 503 for GITFUNC_SHUTDOWN_DRAIN_SECONDS, then calls get
# GITFUNC_SHUTDOWN_GRACE_SECONDS to finish: stop with `docker stop -t 40` (default is 10 s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8088/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/gitfunc.js"]
# The repository comes from GITFUNC_REPO (the --repo flag's variable), its branch from
# GITFUNC_REF; other settings from their GITFUNC_* variables or flags after the image name.
CMD ["serve", "--host", "0.0.0.0", "--port", "8088", "--data-dir", "/data"]
