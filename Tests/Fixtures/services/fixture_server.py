"""How every Python stand-in here serves: a threaded HTTP server on a free loopback port, announced as
one JSON line `{"port": N}` on stdout (what TestSupport's PythonFixture reads), until stdin closes
(the test released the fixture, or died)."""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JSONHandler(BaseHTTPRequestHandler):
    """A quiet handler answering with a body and its Content-Length: `payload` as JSON, or as text when
    another content type is given; `headers` a dict or (name, value) pairs."""

    def log_message(self, *args):
        pass

    def reply(self, status, payload, headers=(), content_type="application/json"):
        data = json.dumps(payload).encode() if content_type == "application/json" else payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers.items() if isinstance(headers, dict) else headers):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    sys.stdin.read()
