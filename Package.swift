// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "wxpush",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wxpush", targets: ["wxpush"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        // The only C in the project: librdkafka, reached through Kafka/RDKafka.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // The one waiting primitive (a cancellable, level-triggered wake-up with a deadline).
        .target(name: "Waiting"),
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                "Waiting",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A small, fast JSON reader and writer for the hot path (events, bodies, outcomes).
        .target(name: "JSON"),
        .target(
            name: "WeChat",
            dependencies: [
                "JSON",
                "Waiting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "Dispatcher",
            dependencies: [
                "JSON",
                "Kafka",
                "Waiting",
                "WeChat",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Simulator",
            dependencies: [
                "JSON",
                "Waiting",
                "WeChat",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The embedded pipeline (cluster + simulator + dispatcher + load) for the demo, benchmarks and tests.
        .target(
            name: "Harness",
            dependencies: [
                "JSON", "Kafka", "Waiting", "WeChat", "Dispatcher", "Simulator",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "wxpush",
            dependencies: [
                "Kafka",
                "Waiting",
                "WeChat",
                "Dispatcher",
                "Simulator",
                "Harness",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "WaitingTests", dependencies: ["Waiting"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "Waiting", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "WeChatTests", dependencies: ["WeChat", "Simulator", "Waiting"]),
        .testTarget(name: "DispatcherTests", dependencies: ["Dispatcher", "JSON", "Kafka", "WeChat", "Harness"]),
        // deploy/: the manifests, alerts and dashboard parse, and name only metrics Sources/ exports.
        .testTarget(name: "DeployTests", dependencies: [.product(name: "Yams", package: "Yams")]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "Kafka", "Dispatcher", "Simulator", "WeChat", "Harness", "Waiting", .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
