/// What goes into a log line from a request: short, whatever the request carried.
enum LogText {
    /// An id (or any request-supplied text) cut to 128 bytes: a 1 MB id must not become a 1 MB log line.
    static func id(_ text: String) -> String { Outcome.cap(text, 128) }
}
