# wxpush in two stages: the Swift 6 toolchain image builds a release binary against Debian's
# librdkafka; a slim Debian image runs it (`wxpush run`, or `wxpush simulate` for the stand-in).
FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends librdkafka-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
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
    && apt-get install -y --no-install-recommends librdkafka1 libstdc++6 zlib1g ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 wxpush
COPY --from=build /usr/local/bin/wxpush /usr/local/bin/wxpush
COPY config /etc/wxpush
USER wxpush
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/wxpush"]
CMD ["run", "--config", "/etc/wxpush/wxpush.compose.yaml"]
