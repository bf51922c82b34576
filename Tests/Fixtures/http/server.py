#!/usr/bin/env python3
"""A small real HTTP(S) server for the HTTP driver tests (stdlib only).

Listens on free loopback ports: plain HTTP, plus one HTTPS listener per
--tls NAME=CERT,KEY argument. Prints one JSON line {"http": port, NAME: port, ...}
once every listener is ready, then serves until stdin closes (so it never
outlives the test process that started it).

Endpoints:
  /status/<code>     that status, body "status <code>"; ?header=Name:value adds a response header
  /json[?body=...]   the given JSON (query `body`, or the request body), default {"status":"healthy"}
  /text              a plain-text body
  /slow?ms=N         answers after N milliseconds
  /redirect?to=URL   302 to URL (default /text)
  /echo              method, path, headers and body as JSON
  /big?bytes=N       N bytes of "x"
"""
import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "opsctl-fixture/1"

    def log_message(self, format, *args):  # keep the test output quiet
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status, body=b"", content_type="text/plain; charset=utf-8", extra=()):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    def _handle(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        body = self._body()
        parts = [p for p in url.path.split("/") if p]
        first = parts[0] if parts else ""
        if first == "status" and len(parts) == 2 and parts[1].isdigit():
            code = int(parts[1])
            # ?header=Name:value (repeatable) adds response headers, e.g. Retry-After to a 429.
            extra = [tuple(h.split(":", 1)) for h in query.get("header", []) if ":" in h]
            return self._reply(code, f"status {code}\n".encode(), extra=extra)
        if first == "json":
            text = query.get("body", [None])[0]
            payload = text.encode() if text is not None else (body or b'{"status":"healthy"}')
            return self._reply(200, payload, "application/json")
        if first == "text":
            return self._reply(200, b"hello from the opsctl test server\n", extra=[("X-Fixture", "text")])
        if first == "slow":
            ms = int(query.get("ms", ["1000"])[0])
            time.sleep(ms / 1000)
            return self._reply(200, f"slept {ms} ms\n".encode())
        if first == "redirect":
            to = query.get("to", ["/text"])[0]
            return self._reply(302, b"", extra=[("Location", to)])
        if first == "echo":
            echo = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            }
            return self._reply(200, json.dumps(echo).encode(), "application/json")
        if first == "big":
            n = int(query.get("bytes", ["1048576"])[0])
            return self._reply(200, b"x" * n, "application/octet-stream")
        return self._reply(404, b"no such fixture endpoint\n")

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the multi-client test opens many connections at once

    def handle_error(self, request, client_address):
        pass  # clients that reject our certificates, or hang up, are expected


def listen(context=None):
    server = Server(("127.0.0.1", 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def main():
    ports = {"http": listen()}
    args = sys.argv[1:]
    while args:
        flag = args.pop(0)
        if flag != "--tls" or not args:
            sys.exit(f"usage: server.py [--tls NAME=CERT,KEY]...")
        name, files = args.pop(0).split("=", 1)
        cert, key = files.split(",", 1)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        ports[name] = listen(context)
    print(json.dumps(ports), flush=True)
    sys.stdin.read()  # until the test process goes away


if __name__ == "__main__":
    main()
