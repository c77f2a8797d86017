import Testing
import WeChat

@Suite("ErrorAction.classify")
struct ErrorActionTests {
    @Test(arguments: [
        (0, ErrorAction.success),
        (-1, .retry),
        (40001, .refreshToken), (40014, .refreshToken), (42001, .refreshToken),
        (45009, .waitForQuota(.daily)), (45011, .waitForQuota(.minute)),
        (40003, .terminal), (43004, .terminal), (43101, .terminal), (40036, .terminal), (40037, .terminal),
        (47003, .terminal), (48001, .terminal), (40164, .terminal),
        (40013, .accountMisconfigured), (40125, .accountMisconfigured),
        (99999, .terminal), (47001, .terminal),
    ])
    func classifiesEveryErrcodeInTheTable(errcode: Int, action: ErrorAction) {
        #expect(ErrorAction.classify(errcode: errcode) == action)
    }

    @Test func apiErrorsAreClassifiedAndTransportErrorsRetry() {
        #expect(WeChatError(errcode: 42001, errmsg: "access_token expired").action == .refreshToken)
        let transport = WeChatError.transport("HTTP 502", httpStatus: 502, progress: .of(httpStatus: 502))
        #expect(transport.action == .retry)
        #expect(transport.errcode == nil)
        #expect(transport.progress == .writtenNoAnswer)
        #expect(transport.description == "WeChat transport error (HTTP 502): HTTP 502")
    }

    @Test func anAccountNeverPrintsItsSecret() {
        let account = WeChatAccount(name: "shop", appID: "wx1", secret: "s3cr3t-value", apiBase: "http://x")
        #expect(!"\(account)".contains("s3cr3t-value"))
        #expect(!String(reflecting: account).contains("s3cr3t-value"))
        #expect("\(account)".contains("wx1"))
    }
}
