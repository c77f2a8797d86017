/// An answer to a token request.
enum TokenGrant {
    case granted(token: String, expiresIn: Int)
    case refused(APIFailure)
}

/// An errcode and errmsg as WeChat words them.
struct APIFailure: Error, Equatable {
    var errcode: Int
    var errmsg: String

    static let invalidAppID = APIFailure(errcode: 40013, errmsg: "invalid appid")
    static let invalidSecret = APIFailure(errcode: 40125, errmsg: "invalid appsecret")
    static let invalidToken = APIFailure(
        errcode: 40001, errmsg: "invalid credential, access_token is invalid or not latest")
    static let expiredToken = APIFailure(errcode: 42001, errmsg: "access_token expired")
}

extension SimulatorState {
    /// Stable tokens are renewed once they have this little life left (wechat-api.md: about 5 minutes).
    static let stableRenewal = Duration.seconds(300)

    /// GET /cgi-bin/token: always a new token; the previous one lives on for `classicOverlap`.
    mutating func grantClassicToken(appID: String, secret: String, now: ContinuousClock.Instant) -> TokenGrant {
        stats.tokenFetches += 1
        if let failure = credentialFailure(appID: appID, secret: secret) {
            return .refused(failure)
        }
        if let previous = apps[appID]?.classicToken {
            revoke(previous, at: now + configuration.classicOverlap)
        }
        let token = issue(.classic, appID: appID, now: now)
        apps[appID, default: AppUsage()].classicToken = token
        return .granted(token: token, expiresIn: seconds(configuration.tokenLifetime))
    }

    /// POST /cgi-bin/stable_token: the current token while it has more than 5 minutes left;
    /// `forceRefresh` revokes it at once and issues a new one.
    mutating func grantStableToken(
        appID: String, secret: String, forceRefresh: Bool, now: ContinuousClock.Instant
    ) -> TokenGrant {
        stats.tokenFetches += 1
        if let failure = credentialFailure(appID: appID, secret: secret) {
            return .refused(failure)
        }
        return currentStableToken(appID: appID, forceRefresh: forceRefresh, now: now)
    }

    /// GET /sim/central_token: what a central token service would hand out (the app's stable token).
    mutating func grantCentralToken(appID: String, now: ContinuousClock.Instant) -> TokenGrant {
        stats.tokenFetches += 1
        guard configuration.accounts[appID] != nil else { return .refused(.invalidAppID) }
        return currentStableToken(appID: appID, forceRefresh: false, now: now)
    }

    /// Why a send with this token is refused, if it is; else the token's appid.
    func tokenOwner(_ token: String?, now: ContinuousClock.Instant) -> Result<String, APIFailure> {
        guard let token, let issued = tokens[token] else { return .failure(.invalidToken) }
        if let revokedAt = issued.revokedAt, now >= revokedAt { return .failure(.invalidToken) }
        if now >= issued.expiresAt { return .failure(.expiredToken) }
        return .success(issued.appID)
    }

    mutating func revokeAllTokens(now: ContinuousClock.Instant) {
        for token in Array(tokens.keys) {
            revoke(token, at: now)
        }
    }

    mutating func expireAllTokens(now: ContinuousClock.Instant) {
        for (token, issued) in tokens where issued.expiresAt > now {
            tokens[token]?.expiresAt = now
        }
    }

    private mutating func currentStableToken(
        appID: String, forceRefresh: Bool, now: ContinuousClock.Instant
    ) -> TokenGrant {
        if let current = apps[appID]?.stableToken, let issued = tokens[current] {
            let usable = issued.revokedAt.map { now < $0 } ?? true
            let remaining = now.duration(to: issued.expiresAt)
            if forceRefresh {
                revoke(current, at: now)
            } else if usable, remaining > Self.stableRenewal {
                return .granted(token: current, expiresIn: seconds(remaining))
            }
        }
        let token = issue(.stable, appID: appID, now: now)
        apps[appID, default: AppUsage()].stableToken = token
        return .granted(token: token, expiresIn: seconds(configuration.tokenLifetime))
    }

    private func credentialFailure(appID: String, secret: String) -> APIFailure? {
        guard let expected = configuration.accounts[appID] else { return .invalidAppID }
        return expected == secret ? nil : .invalidSecret
    }

    private mutating func issue(_ kind: IssuedToken.Kind, appID: String, now: ContinuousClock.Instant) -> String {
        var token = ""
        for _ in 0..<4 {
            token += String(UInt64.random(in: .min ... .max), radix: 36)
        }
        tokens[token] = IssuedToken(appID: appID, kind: kind, expiresAt: now + configuration.tokenLifetime)
        return token
    }

    /// Revokes no later than `instant`; an earlier revocation stands.
    private mutating func revoke(_ token: String, at instant: ContinuousClock.Instant) {
        guard let issued = tokens[token] else { return }
        tokens[token]?.revokedAt = min(issued.revokedAt ?? instant, instant)
    }

    /// Whole seconds, at least 1: `expires_in: 0` would read as "already expired".
    private func seconds(_ duration: Duration) -> Int {
        max(1, Int(duration.components.seconds))
    }
}
