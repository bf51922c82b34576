#!/usr/bin/env python3
"""A stand-in HTTP proxy for the proxy-environment tests: answers every request itself with 200 and
{"request_target": ...}, the target as received — a client going through a proxy sends the absolute
URL (`GET http://host/path HTTP/1.1`), one talking to the origin directly sends the path only.

Prints {"port": N} once listening and serves until stdin closes."""
from fixture_server import JSONHandler, serve


class Handler(JSONHandler):
    def do_GET(self):
        self.reply(200, {"request_target": self.path, "host": self.headers.get("Host", "")})

    do_POST = do_HEAD = do_GET


serve(Handler)
