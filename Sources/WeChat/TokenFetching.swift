/// Something that can get a fresh access token: WeChat itself or a central token service.
public protocol TokenFetching: Sendable {
    /// Fetches a token from WeChat (or the central token service); expiresIn is WeChat's expires_in.
    func fetchToken(forceRefresh: Bool) async throws(WeChatError) -> (token: String, expiresIn: Duration)
}
