# The icws gateway as a container image: the binary that scripts/package-gateway.sh packages,
# built the same way (scripts/check-dockerfile.sh checks that the two agree), on Debian's slim
# image, as a non-root user, with a read-only root filesystem.
#
#   docker build -t icws-gateway .
#   docker run --read-only -v icws-gateway:/var/lib/icws-gateway -p 8080:8080 -p 9000:9000 \
#       --env-file packaging/gateway/icws-gateway.env icws-gateway
#
# The only thing the gateway writes is its identity key (created on first start), in the volume
# /var/lib/icws-gateway: keep the volume, or the gateway gets a new principal on every start.
# Probes: GET :9000/healthz (liveness) and GET :9000/readyz (readiness). `docker stop` sends
# SIGTERM: readiness fails, the drain runs (ICWS_READINESS_DRAIN_DELAY, then
# ICWS_SHUTDOWN_GRACE_PERIOD), the process exits 0; give it `--stop-timeout` to match.

FROM swift:6.3-bookworm AS builder
WORKDIR /src
COPY . .
RUN swift build -c release --product icws --static-swift-stdlib -Xlinker --strip-debug \
    && install -D -m 0755 "$(swift build -c release --product icws --static-swift-stdlib -Xlinker --strip-debug --show-bin-path)/icws" /out/icws \
    && /out/icws --help > /dev/null

FROM debian:bookworm-slim
COPY packaging/gateway/runtime-packages /usr/share/icws-gateway/runtime-packages
RUN apt-get update \
    && apt-get install -y --no-install-recommends $(grep -v '^#' /usr/share/icws-gateway/runtime-packages) \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 icws \
    && useradd --system --uid 10001 --gid icws --home-dir /var/lib/icws-gateway --shell /usr/sbin/nologin icws \
    && install -d -o icws -g icws -m 0700 /var/lib/icws-gateway
COPY --from=builder /out/icws /usr/local/bin/icws
COPY packaging/gateway/icws-gateway.env /etc/icws-gateway/icws-gateway.env
ENV ICWS_IDENTITY_PEM_PATH=/var/lib/icws-gateway/key_pair.pem \
    ICWS_GATEWAY_ADDRESS=0.0.0.0:8080 \
    ICWS_PROMETHEUS_ENDPOINT=0.0.0.0:9000 \
    ICWS_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/icws-gateway
VOLUME ["/var/lib/icws-gateway"]
EXPOSE 8080 9000
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/icws"]
CMD ["gateway"]
