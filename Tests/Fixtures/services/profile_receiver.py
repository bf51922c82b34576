#!/usr/bin/env python3
"""A small stand-in for each shipped profile's service, driven by a JSON config (profiles/<name>.json).

It answers the profile's health endpoints, verifies webhook signatures with implementations independent
of opsctl's (the official `stripe` package, the `standardwebhooks` package, python's hmac for Whop and
Shopify), records every accepted delivery in receiver_deliveries and updates the profile's event table
the way the real service would (the config's `on_event` SQL, run by psql with :'id', :'type', :'body').
Optionally it fakes an admin API that checks an access token header (Shopify's X-Shopify-Access-Token).

usage: profile_receiver.py CONFIG.json DATABASE_URL   (secrets in the env vars the config names;
prints the port it listens on)
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time

from fixture_server import JSONHandler, serve

CONFIG = json.load(open(sys.argv[1]))
DATABASE_URL = sys.argv[2]
SECRET = os.environ[CONFIG["secret_env"]]
SCHEME = CONFIG["scheme"]
TOLERANCE = 300


def sql(statement, **variables):
    args = ["psql", DATABASE_URL, "-v", "ON_ERROR_STOP=1", "-qAt"]
    for name, value in variables.items():
        args += ["-v", f"{name}={value}"]
    subprocess.run(args, input=statement, text=True, check=True, capture_output=True)


class Rejected(Exception):
    pass


def verify(body, headers):
    """Checks the delivery's signature with the provider's own (or an independent) implementation."""
    if SCHEME == "stripe":
        import stripe
        try:
            stripe.Webhook.construct_event(body, headers.get("Stripe-Signature", ""), SECRET)
            return
        except (stripe.error.SignatureVerificationError, ValueError) as error:
            raise Rejected(str(error))
    if SCHEME == "standard":
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError
        try:
            Webhook(SECRET).verify(body, {k.lower(): v for k, v in headers.items()})
            return
        except WebhookVerificationError as error:
            raise Rejected(str(error))
    if SCHEME == "whop":
        signature = headers.get("x-whop-signature", "")
        for prefix in ("sha256=", "v1,", "v1="):
            if signature.lower().startswith(prefix):
                signature = signature[len(prefix):]
                break
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise Rejected("bad whop signature")
        if abs(time.time() - int(headers.get("x-whop-timestamp", "0") or 0)) > TOLERANCE:
            raise Rejected("stale whop timestamp")
        return
    if SCHEME == "shopify":
        expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, headers.get("X-Shopify-Hmac-Sha256", "")):
            raise Rejected("bad shopify hmac")
        if not headers.get("X-Shopify-Topic"):
            raise Rejected("no X-Shopify-Topic")
        return
    raise Rejected(f"unknown scheme {SCHEME}")


def pick(sources, event, headers):
    """The first of `body:key` / `header:Name` that is present."""
    for source in sources:
        where, _, name = source.partition(":")
        value = event.get(name) if where == "body" and isinstance(event, dict) else headers.get(name)
        if value:
            return str(value)
    return ""


class Handler(JSONHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        admin = CONFIG.get("admin")
        if admin and path.startswith(admin["prefix"]):
            if self.headers.get(admin["header"], "") != os.environ[admin["token_env"]]:
                self.reply(401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
            else:
                self.reply(200, admin["body"])
        elif path in CONFIG["health"]:
            self.reply(200, CONFIG["health"][path])
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path.split("?")[0] != CONFIG["webhook_path"]:
            self.reply(404, {"error": "not found"})
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            verify(body, self.headers)
            event = json.loads(body)
        except (Rejected, ValueError) as error:
            self.reply(401 if SCHEME == "shopify" else 400, {"error": str(error)})
            return
        event_id = pick(CONFIG["event_id"], event, self.headers)
        event_type = pick(CONFIG["event_type"], event, self.headers)
        if not event_id:
            self.reply(400, {"error": "no event id"})
            return
        extra = {name: pick(sources, event, self.headers) for name, sources in CONFIG.get("vars", {}).items()}
        sql("INSERT INTO receiver_deliveries (event_id) VALUES (:'id');\n" + CONFIG["on_event"],
            id=event_id, type=event_type, body=body.decode(), **extra)
        self.reply(200, {"received": True})


serve(Handler)
