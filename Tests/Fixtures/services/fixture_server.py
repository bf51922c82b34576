"""How every Python stand-in here serves: a threaded HTTP server on a free loopback port, announced as
one JSON line `{"port": N}` on stdout (what TestSupport's PythonFixture reads), until stdin closes
(the test released the fixture, or died)."""
import json
import sys
import threading
from http.server import ThreadingHTTPServer


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    sys.stdin.read()
