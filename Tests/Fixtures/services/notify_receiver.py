#!/usr/bin/env python3
"""Local stand-ins for Slack, PagerDuty and a generic webhook receiver that check what they get.

Prints {"port": N} once listening, serves until stdin closes, and appends one JSON line per request
to the file given as argv[1]: {"channel", "ok", "problems", "body"}.

  POST /slack      a Slack incoming webhook: `text` and `blocks` (Block Kit: header/section/context,
                   plain_text/mrkdwn text objects, Slack's length limits)
  POST /pagerduty  the Events API v2 (/v2/enqueue): routing_key, event_action, dedup_key and, for a
                   trigger, payload.summary/source/severity; answers 202 like PagerDuty
  POST /webhook    a generic receiver verifying the Standard Webhooks signature with the official
                   `standardwebhooks` package when WEBHOOK_SECRET is set
  POST /down       always 503
"""
import json
import os
import sys
import threading

from fixture_server import JSONHandler, serve

LOG = sys.argv[1]
LOCK = threading.Lock()


def check_text_object(obj, where, limit, problems, types=("plain_text", "mrkdwn")):
    if not isinstance(obj, dict) or obj.get("type") not in types:
        problems.append(f"{where}: text object type must be one of {types}")
        return
    text = obj.get("text")
    if not isinstance(text, str) or not text or len(text) > limit:
        problems.append(f"{where}: text must be 1..{limit} characters")


def check_slack(body):
    problems = []
    if not isinstance(body.get("text"), str) or not body["text"]:
        problems.append("text (the notification fallback) is required")
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        return problems + ["blocks must be a list of 1..50 blocks"]
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "header":
            check_text_object(block.get("text"), f"blocks[{i}].text", 150, problems, ("plain_text",))
        elif kind == "section":
            check_text_object(block.get("text"), f"blocks[{i}].text", 3000, problems)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                problems.append(f"blocks[{i}].elements must be 1..10 elements")
            else:
                for j, element in enumerate(elements):
                    check_text_object(element, f"blocks[{i}].elements[{j}]", 3000, problems)
        else:
            problems.append(f"blocks[{i}]: unexpected block type {kind!r}")
    return problems


def check_pagerduty(body):
    problems = []
    if not isinstance(body.get("routing_key"), str) or not body["routing_key"]:
        problems.append("routing_key is required")
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        problems.append("event_action must be trigger, acknowledge or resolve")
    key = body.get("dedup_key")
    if not isinstance(key, str) or not 1 <= len(key) <= 255:
        problems.append("dedup_key must be 1..255 characters")
    if action == "trigger":
        payload = body.get("payload") or {}
        summary = payload.get("summary")
        if not isinstance(summary, str) or not 1 <= len(summary) <= 1024:
            problems.append("payload.summary must be 1..1024 characters")
        if not isinstance(payload.get("source"), str) or not payload["source"]:
            problems.append("payload.source is required")
        if payload.get("severity") not in ("critical", "error", "warning", "info"):
            problems.append("payload.severity must be critical, error, warning or info")
        for link in body.get("links", []):
            if "href" not in link:
                problems.append("links[].href is required")
    return problems


def check_webhook(headers, raw, body):
    secret = os.environ.get("WEBHOOK_SECRET")
    if not secret:
        return []
    from standardwebhooks.webhooks import Webhook
    try:
        Webhook(secret).verify(raw, {k.lower(): v for k, v in headers.items()})
    except Exception as error:  # the package raises WebhookVerificationError
        return [f"signature: {error}"]
    problems = []
    if body.get("type") != "opsctl.run.transitions" or not isinstance(body.get("transitions"), list):
        problems.append("not an opsctl transitions document")
    return problems


class Handler(JSONHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        channel = self.path.strip("/")
        if channel == "down":
            return self.reply(503, {"error": "unavailable"})
        try:
            body = json.loads(raw)
        except ValueError:
            body, problems = None, ["body is not JSON"]
        else:
            problems = {"slack": check_slack, "pagerduty": check_pagerduty}.get(channel, lambda b: [])(body) \
                if channel != "webhook" else check_webhook(self.headers, raw, body)
        with LOCK, open(LOG, "a") as log:
            log.write(json.dumps({"channel": channel, "ok": not problems, "problems": problems,
                                  "body": body, "raw": raw.decode("utf-8", "replace")}) + "\n")
        if problems:
            return self.reply(400, {"status": "invalid event", "errors": problems})
        if channel == "pagerduty":
            return self.reply(202, {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")})
        return self.reply(200, {"ok": True})


if __name__ == "__main__":
    serve(Handler)
