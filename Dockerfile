# wxpush in two stages: the Swift 6 toolchain image builds librdkafka (a pinned release, from
# source: Debian bookworm ships 2.0.2 of January 2023, whose default assignor asserts, #4312) and a
# release binary against it; a slim Debian image runs both (`wxpush run`, or `wxpush simulate`).
FROM swift:6.3-bookworm AS build
ARG LIBRDKAFKA_VERSION=2.16.0
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential curl ca-certificates pkg-config python3 \
        libssl-dev libsasl2-dev zlib1g-dev libzstd-dev \
    && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL "https://github.com/confluentinc/librdkafka/archive/refs/tags/v${LIBRDKAFKA_VERSION}.tar.gz" | tar xz -C /tmp \
    && cd "/tmp/librdkafka-${LIBRDKAFKA_VERSION}" \
    && ./configure --prefix=/usr/local --disable-curl \
    && make -j"$(nproc)" libs && make install \
    && ldconfig && rm -rf /tmp/librdkafka-*
WORKDIR /src
# The manifest names the test targets too, and SwiftPM checks that every target's folder exists
# even to resolve: Sources and Tests both come in before it runs.
COPY Package.swift ./
COPY Sources Sources
COPY Tests Tests
RUN swift package resolve
RUN swift build -c release --product wxpush --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/wxpush" /usr/local/bin/wxpush

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 libsasl2-2 zlib1g libzstd1 libstdc++6 ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 wxpush
COPY --from=build /usr/local/lib/librdkafka.so.1 /usr/local/lib/
RUN ldconfig
COPY --from=build /usr/local/bin/wxpush /usr/local/bin/wxpush
COPY config /etc/wxpush
USER wxpush
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/wxpush"]
CMD ["run", "--config", "/etc/wxpush/wxpush.compose.yaml"]
