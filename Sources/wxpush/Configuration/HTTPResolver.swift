import WeChat

/// Resolves `http` (port, host, intake token) and each account's `callback` (Token and
/// EncodingAESKey, from the file or the environment; never logged).
///
/// Environment: `WXPUSH_HTTP_PORT`, `WXPUSH_INTAKE_TOKEN`, and per account
/// `WXPUSH_CALLBACK_TOKEN_<ACCOUNT>` and `WXPUSH_AES_KEY_<ACCOUNT>` unless `*_env` names another.
struct HTTPResolver {
    let environment: [String: String]

    func resolve(_ file: ConfigurationFile.HTTP?, _ problems: inout [String]) -> HTTPSettings {
        var settings = HTTPSettings()
        settings.host = file?.host ?? settings.host
        if let text = environment["WXPUSH_HTTP_PORT"] {
            if let port = Int(text) { settings.port = port } else { problems.append("WXPUSH_HTTP_PORT: \"\(text)\" is not a port number") }
        } else if let port = file?.port {
            settings.port = port
        }
        if !(0...65_535).contains(settings.port) { problems.append("http.port: \(settings.port); use 1…65535, or 0 for no HTTP server") }
        if let adminPort = file?.adminPort {
            if !(1...65_535).contains(adminPort) {
                problems.append("http.admin_port: \(adminPort); use 1…65535 (or leave it out to serve everything on http.port)")
            } else if adminPort == settings.port {
                problems.append("http.admin_port: \(adminPort) is http.port too; give the operator routes a port of their own")
            } else if settings.port == 0 {
                problems.append("http.admin_port: set, but http.port is 0 (no HTTP server); set http.port too")
            } else {
                settings.adminPort = adminPort
            }
        }
        settings.intakeToken = token(file?.intakeToken, file?.intakeTokenEnv ?? "WXPUSH_INTAKE_TOKEN", "http.intake_token", &problems)
        settings.adminToken = token(file?.adminToken, file?.adminTokenEnv ?? "WXPUSH_ADMIN_TOKEN", "http.admin_token", &problems)
        if let connections = file?.maxConnections {
            if (1...100_000).contains(connections) {
                settings.maxConnections = connections
            } else {
                problems.append("http.max_connections: \(connections); use 1…100000 (keep it below the process's open-file limit)")
            }
        }
        for (field, text, keyPath) in [
            ("header_timeout", file?.headerTimeout, \HTTPSettings.headerTimeout), ("body_timeout", file?.bodyTimeout, \.bodyTimeout),
            ("idle_timeout", file?.idleTimeout, \.idleTimeout),
        ] {
            guard let text else { continue }
            if let value = DurationText.parse(text), value > .zero, value <= .seconds(3600) {
                settings[keyPath: keyPath] = value
            } else {
                problems.append("http.\(field): \"\(text)\" is not a duration from 1ms to 1h; write it like 10s")
            }
        }
        return settings
    }

    /// A bearer token from `variable` or the file: at least 16 characters.
    private func token(_ configured: String?, _ variable: String, _ field: String, _ problems: inout [String]) -> String? {
        let token = nonEmpty(environment[variable]) ?? nonEmpty(configured)
        if let token, token.utf8.count < 16 {
            problems.append("\(field): shorter than 16 characters; use a long random token (\(variable))")
        }
        return token
    }

    func callback(
        name: String, appID: String, _ file: ConfigurationFile.Callback?, _ problems: inout [String]
    ) -> CallbackAuthenticator? {
        let field = "wechat.accounts.\(name).callback"
        let suffix = String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
        let tokenVariable = file?.tokenEnv ?? "WXPUSH_CALLBACK_TOKEN_\(suffix)"
        let keyVariable = file?.encodingAESKeyEnv ?? "WXPUSH_AES_KEY_\(suffix)"
        let token = nonEmpty(environment[tokenVariable]) ?? nonEmpty(file?.token)
        let key = nonEmpty(environment[keyVariable]) ?? nonEmpty(file?.encodingAESKey)
        guard let token else {
            if key != nil { problems.append("\(field).token: missing; safe mode needs the Token too (\(tokenVariable))") }
            return nil
        }
        if !(3...32).contains(token.count) || !token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            problems.append("\(field).token: WeChat's Token is 3–32 letters or digits")
        }
        guard let key else { return CallbackAuthenticator(token: token, cipher: nil) }
        do {
            return CallbackAuthenticator(token: token, cipher: try CallbackCipher(encodingAESKey: key, appID: appID))
        } catch {
            problems.append("\(field).encoding_aes_key: \(error) (\(keyVariable))")
            return nil
        }
    }

    private func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
