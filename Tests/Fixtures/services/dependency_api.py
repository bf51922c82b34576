#!/usr/bin/env python3
"""A stand-in for the external APIs a service depends on (stdlib only), for opsctl's dependency checks.

Prints {"port": N} once listening on a free loopback port, then serves until stdin closes.

  /api/v5/app?remaining=N   the Whop-style API: 401 unless "Authorization: Bearer $EXPECTED_BEARER";
                            200 with X-RateLimit-Limit: 1000 and X-RateLimit-Remaining: N (omitted when
                            N is "none"; "many" sends a non-number)
  /admin/shop.json          the Shopify-style API: 401 unless X-Shopify-Access-Token is $EXPECTED_SHOPIFY
  /<indicator>/api/v2/status.json
                            an Atlassian Statuspage status.json with that indicator (none, minor, major,
                            critical, or anything else to test unknown ones); /broken/... answers HTML
"""
import json
import os
from urllib.parse import parse_qs, urlsplit

from fixture_server import JSONHandler, serve

DESCRIPTIONS = {"none": "All Systems Operational", "minor": "Minor Service Outage",
                "major": "Partial System Outage", "critical": "Major System Outage"}


class Handler(JSONHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/api/v5/app":
            if self.headers.get("Authorization") != "Bearer " + os.environ["EXPECTED_BEARER"]:
                return self.reply(401, {"error": "unauthorized"})
            remaining = query.get("remaining", ["900"])[0]
            headers = [("X-RateLimit-Limit", "1000")]
            if remaining != "none":
                headers.append(("X-RateLimit-Remaining", "lots" if remaining == "many" else remaining))
            return self.reply(200, {"id": "app_1", "name": "Churn Saver"}, headers)
        if url.path == "/admin/shop.json":
            if self.headers.get("X-Shopify-Access-Token") != os.environ["EXPECTED_SHOPIFY"]:
                return self.reply(401, {"errors": "[API] Invalid API key or access token"})
            return self.reply(200, {"shop": {"name": "demo"}})
        parts = [p for p in url.path.split("/") if p]
        if len(parts) == 4 and parts[1:] == ["api", "v2", "status.json"]:
            indicator = parts[0]
            if indicator == "broken":
                return self.reply(200, "<html>maintenance</html>", content_type="text/html")
            return self.reply(200, {
                "page": {"id": "kctbh9vrtdwd", "name": "Whop", "url": "https://status.whop.com",
                         "updated_at": "2026-11-29T12:00:00.000Z"},
                "status": {"indicator": indicator, "description": DESCRIPTIONS.get(indicator, "Unknown")},
            })
        return self.reply(404, {"error": "no such endpoint"})


if __name__ == "__main__":
    serve(Handler)
