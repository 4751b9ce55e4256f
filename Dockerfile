# gossip-witness container image: the CLI (`serve`, `log serve`, `launch`, `keygen`, ...).
#   docker build -t gossip-witness .
#   docker run -d --name witness -v gw-data:/var/lib/gossip-witness \
#     -v "$PWD/deploy/compose/public-witness.yaml:/etc/gossip-witness/witness.yaml:ro" \
#     -v "$PWD/network-config/public-logs.txt:/etc/gossip-witness/public-logs.txt:ro" \
#     -p 127.0.0.1:7380:7380 -p 7381:7381 gossip-witness
# The whole local network: docker-compose.yml. Operating it: docs/operator-guide.md.

# --- build: install with the lock file, compile TypeScript (npm ci runs "prepare" = tsc), drop dev deps
FROM node:26-slim AS build
WORKDIR /src
# classic-level (LevelDB) ships prebuilt binaries; the toolchain is only for a platform without one.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY scripts/build-bin.mjs scripts/prune-prebuilds.sh ./scripts/
# The npm workspace's packages (client, tools): npm ci's "prepare" builds them from src/.
COPY packages ./packages
# The image runs on one platform: other platforms' native prebuilds go (about 20 MB, mostly sodium-native's).
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund \
 && sh scripts/prune-prebuilds.sh node_modules

# --- runtime: no compiler, no dev dependencies, not root
FROM node:26-slim
ENV NODE_ENV=production
# Caps V8's young generation: about 10 MiB less RSS at idle and 26-30 MiB less under sequential
# load, for 5-18 % more CPU per request (docs/operator-guide.md, "Memory"). Set NODE_OPTIONS to change it.
ENV NODE_OPTIONS=--max-semi-space-size=2
# glibc malloc: blocks of 32 KiB and more (V8's compiler zones) get their own mappings, given back
# when freed, instead of leaving holes in the malloc heaps: 1.5-6 MiB less RSS at idle and 12-20 MiB
# less after traffic on Node 24 and 26, for about 3 % more CPU per request (docs/operator-guide.md,
# "Memory"). `-e GLIBC_TUNABLES=` gives glibc's defaults back.
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY deploy/docker/entrypoint.sh /usr/local/bin/gossip-witness-entrypoint
# The data directory belongs to the image's unprivileged `node` user (uid 1000); a named volume
# mounted here starts with that ownership. (No VOLUME line: it would leave an anonymous volume
# behind for every container that mounts its data elsewhere, as the compose services do.)
RUN chmod 0755 /usr/local/bin/gossip-witness-entrypoint \
 && ln -s /app/bin/gossip-witness.js /usr/local/bin/gossip-witness \
 && mkdir -p /var/lib/gossip-witness /etc/gossip-witness \
 && chown node:node /var/lib/gossip-witness
USER node
# 7380: HTTP (add-checkpoint, monitoring, /metrics, /healthz, /readyz); 7381: libp2p gossip.
EXPOSE 7380 7381
# Slim images have no curl: Node's fetch checks readiness, /readyz: unhealthy while the witness
# cannot cosign (its store cannot write, its clock is behind). GW_HEALTH_URL moves it (the local log: 7390/healthz).
ENV GW_HEALTH_URL=http://127.0.0.1:7380/readyz
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.GW_HEALTH_URL,{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["gossip-witness-entrypoint"]
CMD ["serve", "--config", "/etc/gossip-witness/witness.yaml"]
