# berth in a container: the `berth` binary on a small Debian userland.
#
#   cargo xtask build          # target/release/berth, the UI embedded in it
#   docker-compose up -d       # or `docker compose up -d`: builds this image, runs it
#
# The binary is built on the host (it needs Rust and the wasm target for its UI) and copied
# in, so building the image needs no toolchain and no registry but the one holding BASE.
# BASE must carry the glibc the binary was linked against: Debian 12 for a Debian 12 host.
# The tests build it from a base made locally (BASE=berth-test/runtime:latest, see
# xtask/src/images.rs) with the debug binary (BERTH_BIN=target/debug/berth).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
ARG BERTH_BIN=target/release/berth
COPY ${BERTH_BIN} /usr/local/bin/berth
# Listen on every interface of the container (publish the port on the host to choose who
# reaches it); the data dir is a volume; the daemon's socket comes in through its folder.
ENV BERTH_LISTEN=0.0.0.0:8080 \
    BERTH_DATA_DIR=/data \
    DOCKER_HOST=unix:///run/docker-host/docker.sock
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/berth", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/berth"]
