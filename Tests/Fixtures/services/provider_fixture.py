#!/usr/bin/env python3
"""Stands in for a webhook provider and for the handlers that receive its deliveries, with code that
is independent of opsctl's:

POST /hooks/<scheme>      verifies a delivery the way a real handler does and checks its shape:
    stripe    stripe.Webhook.construct_event (the official library), then an Event with data.object
    standard  standardwebhooks.Webhook.verify (the official library), then {type, timestamp, data}
    shopify   base64 HMAC-SHA256 of the raw body (python hmac), X-Shopify-Topic and the other headers
    whop      hex HMAC-SHA256 of the raw body (python hmac), then {id, type, data}
  Each accepted delivery is appended to DELIVERIES_FILE as {"scheme", "headers", "body"}; a refused
  one answers 400 with the reason.

GET /events/<style>       the provider's event list, paginated as <style> pages it:
    cursor    ?cursor=<next_cursor>               -> {"data": [...], "next_cursor": "..."|null}
    stripe    ?starting_after=<id>, created[gte]  -> {"object": "list", "data": [...], "has_more": bool}
    page      ?page=N                             -> {"items": [...], "total_pages": N}
    link      RFC 8288 Link: <...>; rel="next"    -> [...]
  Events come from EVENTS_FILE (JSON lines, newest first as Stripe lists them). Every request needs
  `Authorization: Bearer $PROVIDER_API_KEY` (else 401). ?limit= is the page size.
  /events/ratelimited answers 429 with Retry-After: 1 to its first request, then behaves as cursor.
  /events/broken always answers 503. Every list request is appended to REQUESTS_FILE.

usage: provider_fixture.py   (env: secrets STRIPE_SECRET, STANDARD_SECRET, SHOPIFY_SECRET, WHOP_SECRET,
       PROVIDER_API_KEY, files EVENTS_FILE, DELIVERIES_FILE, REQUESTS_FILE; prints the port)
"""
import base64
import hashlib
import hmac
import json
import os
import threading
from urllib.parse import parse_qs, urlparse

import standardwebhooks
import stripe

from fixture_server import JSONHandler, serve

ENV = os.environ
LOCK = threading.Lock()
STATE = {"ratelimited": 0}


def append(path, record):
    with LOCK, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def events():
    with open(ENV["EVENTS_FILE"], encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Refused(Exception):
    pass


def check_stripe(body, headers):
    stripe.Webhook.construct_event(body, headers.get("Stripe-Signature", ""), ENV["STRIPE_SECRET"])
    event = json.loads(body)  # verified; the shape is checked on the plain JSON a handler would read
    if event.get("object") != "event" or not event.get("id") or not event.get("type"):
        raise Refused("not a Stripe Event")
    if not isinstance(event["data"]["object"], dict) or "object" not in event["data"]["object"]:
        raise Refused("data.object is not a Stripe object")
    if not isinstance(event["created"], int) or event["livemode"] is not False:
        raise Refused("created/livemode missing")


def check_standard(body, headers):
    payload = standardwebhooks.Webhook(ENV["STANDARD_SECRET"]).verify(body, dict(headers.items()))
    if set(payload) != {"type", "timestamp", "data"} or not isinstance(payload["data"], dict):
        raise Refused("not {type, timestamp, data}: %s" % sorted(payload))


def check_shopify(body, headers):
    expected = base64.b64encode(hmac.new(ENV["SHOPIFY_SECRET"].encode(), body, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, headers.get("X-Shopify-Hmac-Sha256", "")):
        raise Refused("HMAC mismatch")
    for name in ["X-Shopify-Topic", "X-Shopify-Webhook-Id", "X-Shopify-Shop-Domain", "X-Shopify-API-Version",
                 "X-Shopify-Triggered-At"]:
        if not headers.get(name):
            raise Refused("missing " + name)
    if not isinstance(json.loads(body), dict):
        raise Refused("body is not a resource object")


def check_whop(body, headers):
    expected = hmac.new(ENV["WHOP_SECRET"].encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers.get("X-Whop-Signature", "")):
        raise Refused("HMAC mismatch")
    event = json.loads(body)
    if not event.get("id") or not event.get("type") or not isinstance(event.get("data"), dict):
        raise Refused("not {id, type, data}")


CHECKS = {"stripe": check_stripe, "standard": check_standard, "shopify": check_shopify, "whop": check_whop}


class Handler(JSONHandler):
    def do_POST(self):
        scheme = self.path.rsplit("/", 1)[-1]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not self.path.startswith("/hooks/") or scheme not in CHECKS:
            self.reply(404, {"error": "not found"})
            return
        try:
            CHECKS[scheme](body, self.headers)
        except Exception as error:  # any verification or shape failure is the sender's fault
            self.reply(400, {"error": "%s: %s" % (type(error).__name__, error)})
            return
        append(ENV["DELIVERIES_FILE"], {"scheme": scheme, "headers": dict(self.headers.items()),
                                        "body": json.loads(body)})
        self.reply(200, {"received": True})

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        style = url.path.rsplit("/", 1)[-1]
        append(ENV["REQUESTS_FILE"], {"path": url.path, "query": query,
                                      "authorization": self.headers.get("Authorization", "")})
        if self.headers.get("Authorization") != "Bearer " + ENV["PROVIDER_API_KEY"]:
            self.reply(401, {"error": {"message": "Invalid API Key provided"}})
            return
        if style == "broken":
            self.reply(503, {"error": "upstream unavailable"})
            return
        if style == "ratelimited":
            with LOCK:
                STATE["ratelimited"] += 1
                first = STATE["ratelimited"] == 1
            if first:
                self.reply(429, {"error": "slow down"}, {"Retry-After": "1"})
                return
            style = "cursor"
        items = events()
        if "created[gte]" in query:
            items = [e for e in items if e["created"] >= int(query["created[gte]"])]
        limit = int(query.get("limit", "10"))
        if style == "cursor":
            start = int(query["cursor"]) if "cursor" in query else 0
            page = items[start:start + limit]
            more = start + limit < len(items)
            self.reply(200, {"data": page, "next_cursor": str(start + limit) if more else None})
        elif style == "stripe":
            start = 0
            if "starting_after" in query:
                start = [e["id"] for e in items].index(query["starting_after"]) + 1
            page = items[start:start + limit]
            self.reply(200, {"object": "list", "data": page, "has_more": start + limit < len(items)})
        elif style == "page":
            number = int(query.get("page", "1"))
            total = (len(items) + limit - 1) // limit
            self.reply(200, {"items": items[(number - 1) * limit:number * limit], "total_pages": total})
        elif style == "link":
            start = int(query.get("offset", "0"))
            headers = {}
            if start + limit < len(items):
                headers["Link"] = '<%s?limit=%d&offset=%d>; rel="next", <%s?offset=0>; rel="first"' % (
                    url.path, limit, start + limit, url.path)
            self.reply(200, items[start:start + limit], headers)
        else:
            self.reply(404, {"error": "unknown style " + style})


serve(Handler)
