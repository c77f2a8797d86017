import CRdKafka

/// The librdkafka this process loaded (the one linked, or another through `LD_LIBRARY_PATH`).
public enum KafkaLibrary {
    public static var version: String { String(cString: rd_kafka_version_str()) }
}
