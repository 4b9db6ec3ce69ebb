# relais: multi-stage image, Debian 12 (bookworm) Node 20, builds air-gapped except for the
# npm registry and Debian's archive (the same steps as .ci/run: same package lists, same
# worker build script).

# --- build: the mediasoup worker from mediasoup's npm sources, the dependencies, the web client
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY scripts/ scripts/
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      $(cat scripts/debian-build-packages.txt scripts/debian-runtime-packages.txt | tr '\n' ' ') \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Built before npm ci, so mediasoup's postinstall sees MEDIASOUP_WORKER_BIN and skips GitHub.
# libsrtp's and liburing's sources come from Debian's archive too (RELAIS_DEBIAN_MIRROR: a local mirror).
ARG RELAIS_DEBIAN_MIRROR
ARG RELAIS_LIBSRTP
ARG RELAIS_LIBURING
ARG RELAIS_WORKER_ZEROCOPY
RUN RELAIS_WORKER_CACHE=/opt/relais/worker-cache bash scripts/build-mediasoup-worker.sh \
 && cp --dereference .worker/mediasoup-worker /opt/relais/mediasoup-worker
ENV MEDIASOUP_WORKER_BIN=/opt/relais/mediasoup-worker \
    PUPPETEER_SKIP_DOWNLOAD=true
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY server/ server/
COPY web/ web/
COPY config/ config/
RUN npm run build:web && npm prune --omit=dev

# --- runtime: Node, the worker's shared libraries, a non-root user
FROM node:20-bookworm-slim
WORKDIR /app
COPY scripts/debian-runtime-packages.txt /tmp/
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(cat /tmp/debian-runtime-packages.txt | tr '\n' ' ') \
 && rm -rf /var/lib/apt/lists/* /tmp/debian-runtime-packages.txt \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin relais
COPY --from=build /opt/relais/mediasoup-worker /opt/relais/mediasoup-worker
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build /app/web/dist ./web/dist
COPY --from=build /app/package.json /app/tsconfig.json ./
COPY --from=build /app/server ./server
COPY --from=build /app/config ./config
ENV NODE_ENV=production \
    RELAIS_ENV=production \
    RELAIS_HTTP_HOST=0.0.0.0 \
    RELAIS_HTTP_PORT=3000 \
    RELAIS_RTC_LISTEN_IP=0.0.0.0 \
    RELAIS_RTC_PORT_BASE=40000 \
    MEDIASOUP_WORKER_BIN=/opt/relais/mediasoup-worker
USER relais
# HTTP(S) + signalling, then one UDP and one TCP port per worker (RELAIS_WORKERS, default = cores).
EXPOSE 3000/tcp 40000-40015/udp 40000-40015/tcp
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.RELAIS_HTTP_PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "server/src/main.ts"]
