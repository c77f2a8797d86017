extension ThreadedWeChatServer {
    /// A plain threaded HTTP/1.1 WeChat stand-in on Python's standard library: one thread per
    /// connection, keep-alive, a fixed answer delay, Python's listen backlog unless told otherwise.
    /// It answers stable_token, token and the three send endpoints, de-duplicates template/send by
    /// (touser, client_msg_id) and counts the repeats of the other kinds that reach a user, and
    /// serves GET /sim/stats in the
    /// built-in simulator's JSON shape (`SimulatorStats`), so a bench reads both the same way.
    /// Nothing in it is tuned for wxpush's client: that is its point.
    static let script = #"""
        import json, os, sys, threading, time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlparse, parse_qs

        latency = float(sys.argv[2]) / 1000.0
        appid, secret = sys.argv[3], sys.argv[4]
        lock = threading.Lock()
        state = {"in_progress": 0, "max": 0, "requests": 0, "delivered": 0, "suppressed": 0,
                 "tokens": 0, "msgid": 2000000000, "errors": {}, "duplicates": 0}
        kinds = {"/cgi-bin/message/template/send": "template", "/cgi-bin/message/subscribe/bizsend": "bizsend",
                 "/cgi-bin/message/subscribe/send": "subscribe"}
        messages, seen = {}, {}
        token = "threaded-token"

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def grant(self, given_appid, given_secret):
                if given_appid != appid or given_secret != secret:
                    return self.answer(200, {"errcode": 40013, "errmsg": "invalid appid"})
                with lock:
                    state["tokens"] += 1
                self.answer(200, {"access_token": token, "expires_in": 7200})

            def do_GET(self):
                url = urlparse(self.path)
                if url.path == "/cgi-bin/token":
                    query = parse_qs(url.query)
                    return self.grant(query.get("appid", [""])[0], query.get("secret", [""])[0])
                if url.path == "/sim/stats":
                    with lock:
                        return self.answer(200, {
                            "messagesByOpenID": messages, "duplicates": state["duplicates"],
                            "suppressedDuplicates": state["suppressed"], "tokenFetches": state["tokens"],
                            "sendRequests": state["requests"], "delivered": state["delivered"],
                            "errorsByCode": state["errors"], "maxConcurrentSends": state["max"]})
                self.answer(404, {"errcode": 404, "errmsg": "not found"})

            def do_POST(self):
                url = urlparse(self.path)
                raw = self.body()
                if url.path == "/cgi-bin/stable_token":
                    request = json.loads(raw or b"{}")
                    return self.grant(request.get("appid", ""), request.get("secret", ""))
                if not url.path.startswith("/cgi-bin/message/"):
                    return self.answer(404, {"errcode": 404, "errmsg": "not found"})
                with lock:
                    state["requests"] += 1
                    state["in_progress"] += 1
                    state["max"] = max(state["max"], state["in_progress"])
                try:
                    time.sleep(latency)
                    if parse_qs(url.query).get("access_token", [""])[0] != token:
                        with lock:
                            state["errors"]["40001"] = state["errors"].get("40001", 0) + 1
                        return self.answer(200, {"errcode": 40001, "errmsg": "invalid credential"})
                    message = json.loads(raw)
                    openid, client_msg_id = message.get("touser", ""), message.get("client_msg_id", "")
                    kind = kinds.get(url.path, "template")
                    with lock:
                        key = openid + "\0" + client_msg_id
                        if kind == "template" and client_msg_id and key in seen:
                            state["suppressed"] += 1
                            msgid = seen[key]
                        else:
                            # Only template/send de-duplicates (like WeChat); a repeat of the
                            # subscribe kinds reaches the user, and is counted as a duplicate.
                            if client_msg_id and key in seen:
                                state["duplicates"] += 1
                            state["msgid"] += 1
                            state["delivered"] += 1
                            msgid = seen[key] = state["msgid"]
                            messages.setdefault(openid, []).append({
                                "openid": openid, "clientMsgID": client_msg_id,
                                "templateID": message.get("template_id", ""), "kind": kind, "data": {},
                                "msgid": msgid, "receivedAt": time.time() - 978307200})
                    self.answer(200, {"errcode": 0, "errmsg": "ok", "msgid": msgid})
                finally:
                    with lock:
                        state["in_progress"] -= 1

        def exit_with_parent():
            sys.stdin.read()
            os._exit(0)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = int(sys.argv[5])

            def handle_error(self, request, address):
                error = sys.exc_info()[1]
                if not isinstance(error, (BrokenPipeError, ConnectionResetError)):
                    print("threaded WeChat server:", repr(error), file=sys.stderr)

        threading.Thread(target=exit_with_parent, daemon=True).start()
        server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#
}
