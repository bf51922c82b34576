#!/usr/bin/env python3
"""A webhook receiver for an invented service ("acme") that is none of opsctl's profiles.

Its event store is acme_hooks(hook_id, kind, body, state 'queued'|'done'|'dead', tries, failure, arrived_at).
Deliveries are verified with the official `stripe` library (an implementation independent of opsctl's),
every accepted delivery is recorded in acme_deliveries, and the hook ends 'done'.

usage: acme_receiver.py DATABASE_URL   (secret in ACME_STRIPE_SECRET; prints the port it listens on)
"""
import json
import os
import subprocess
import sys

import stripe

from fixture_server import JSONHandler, serve

DATABASE_URL = sys.argv[1]
SECRET = os.environ["ACME_STRIPE_SECRET"]


def sql(statement, **variables):
    args = ["psql", DATABASE_URL, "-v", "ON_ERROR_STOP=1", "-qAt"]
    for name, value in variables.items():
        args += ["-v", f"{name}={value}"]
    subprocess.run(args, input=statement, text=True, check=True, capture_output=True)


class Handler(JSONHandler):
    def do_GET(self):
        if self.path == "/healthz":
            self.reply(200, {"ok": True, "service": "acme"})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/hooks/stripe":
            self.reply(404, {"error": "not found"})
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            event = stripe.Webhook.construct_event(body, self.headers.get("Stripe-Signature", ""), SECRET)
        except (stripe.error.SignatureVerificationError, ValueError) as error:
            self.reply(400, {"error": str(error)})
            return
        sql("""
            INSERT INTO acme_deliveries (hook_id) VALUES (:'id');
            INSERT INTO acme_hooks (hook_id, kind, body, state, tries, arrived_at)
                 VALUES (:'id', :'kind', :'body'::jsonb, 'done', 1, now())
            ON CONFLICT (hook_id) DO UPDATE SET state = 'done', failure = NULL, tries = acme_hooks.tries + 1;
            """, id=event["id"], kind=event["type"], body=body.decode())
        self.reply(200, {"received": True})


serve(Handler)
