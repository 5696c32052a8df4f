#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A fault-injecting HTTP proxy in front of moto, for the AWS tests.

    aws-proxy.py --upstream http://127.0.0.1:MOTO [-p PORT] [--port-file F] [FAULT]...

It forwards every request to the upstream unchanged (headers and body as
they came, so a signature still verifies) and counts the EC2 calls (POSTs
with an Action). Faults apply to EC2 calls only, never to /moto-api/ or to
the proxy's own paths:

  --throttle N             the first N EC2 calls get HTTP 503
                           RequestLimitExceeded (nothing reaches moto)
  --throttle-code CODE     the code --throttle answers (default
                           RequestLimitExceeded; e.g. Throttling)
  --error500 N             the first N EC2 calls get HTTP 500 InternalError
  --drop N                 the first N EC2 calls: the connection is closed
                           without an answer, before moto sees the call
  --drop-answer N          the first N EC2 calls reach moto, and then the
                           connection is closed before its answer is relayed
                           (the call was made; the client cannot know)
  --dependency-violation ACTION
                           the first call of ACTION (e.g. DeleteSecurityGroup)
                           gets HTTP 400 DependencyViolation; repeatable
  --fail ACTION[:N]=CODE   the N-th call (default 1) of ACTION gets HTTP 400
                           CODE; repeatable (a failure injected at one step)
  --error500-of ACTION[:N] the N-th call (default 1) of ACTION gets HTTP 500
                           InternalError (nothing reaches moto); repeatable
  --drop-of ACTION[:N]     the N-th call (default 1) of ACTION: the connection
                           is closed without an answer, before moto sees the
                           call; repeatable
  --drop-answer-of ACTION[:N]
                           the N-th call (default 1) of ACTION reaches moto,
                           then the connection is closed before its answer;
                           repeatable
  --error500-after ACTION[:N]
                           the N-th call (default 1) of ACTION reaches moto,
                           and its answer is replaced by HTTP 500
                           InternalError (the work done, the client told
                           otherwise); repeatable
  --empty-answer-of ACTION[:N]
                           the N-th call (default 1) of ACTION (a Describe)
                           reaches moto, and its answer is relayed with every
                           list of items emptied (as AWS, eventually
                           consistent, may answer right after a create);
                           repeatable
                           (ACTION[:N]@TEXT, in each of the five above: the
                           N-th of the calls of ACTION whose form-encoded
                           body holds TEXT, e.g. CreateRoute@GatewayId=)
  --delay ACTION=MS        every call of ACTION waits MS milliseconds before
                           it is forwarded (other calls go on meanwhile: a
                           race's window made wide); repeatable
  --serialize ACTION       calls of ACTION reach moto one at a time (moto
                           checks a key pair's name and stores it in two
                           steps, so two at once from two threads may both
                           get through; AWS's check is atomic); repeatable
  --fail-all CODE          every EC2 call after those counted so far gets
                           HTTP 400 CODE (for "the endpoint refuses")
  --log FILE               one JSON line per EC2 call: method, path, headers,
                           body, action, what the proxy did ("forwarded",
                           "throttled", "error500", "dropped", "answer-dropped",
                           "failed", "done-error500", "emptied") and peer (the client's
                           port: one per connection)

The proxy's own paths (not forwarded):
  GET  /__proxy__/stats    JSON: {"calls": N, "forwarded": N, "faults": N,
                           "by_action": {ACTION: N}}
  POST /__proxy__/config   JSON body with any of throttle, throttle_code,
                           error500, drop, drop_answer, dependency_violation (a list),
                           fail (a list of "ACTION[:N]=CODE"), fail_all
                           (CODE or null), error500_of, drop_of, drop_answer_of
                           error500_after and empty_answer_of (lists of "ACTION[:N]"), delay (a list of
                           "ACTION=MS"), serialize (a list): replaces the faults; counters of
                           calls are kept, the fault counts start again
  POST /__proxy__/reset    all counters and faults back to zero

With -p 0 (the default) the kernel picks the port; it is written to
--port-file once the proxy listens. The proxy itself only listens on
127.0.0.1.
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
ONE_AT_A_TIME = threading.Lock()     # --serialize
STATE = {}


def fresh_faults(a):
    return {
        "throttle": a.get("throttle", 0) or 0,
        "throttle_code": a.get("throttle_code") or "RequestLimitExceeded",
        "error500": a.get("error500", 0) or 0,
        "drop": a.get("drop", 0) or 0,
        "drop_answer": a.get("drop_answer", 0) or 0,
        "dependency_violation": list(a.get("dependency_violation") or []),
        "fail": parse_fail(a.get("fail") or []),
        "fail_all": a.get("fail_all"),
        "error500_of": parse_nth(a.get("error500_of") or []),
        "drop_of": parse_nth(a.get("drop_of") or []),
        "drop_answer_of": parse_nth(a.get("drop_answer_of") or []),
        "error500_after": parse_nth(a.get("error500_after") or []),
        "empty_answer_of": parse_nth(a.get("empty_answer_of") or []),
        "delay": parse_delay(a.get("delay") or []),
        "serialize": list(a.get("serialize") or []),
        # how many of each were answered since the faults were set
        "n_throttled": 0, "n_error500": 0, "n_dropped": 0, "n_answer_dropped": 0,
        "seen": {},
    }


def parse_fail(items):
    out = []
    for it in items:
        what, _, code = it.partition("=")
        action, _, n = what.partition(":")
        if not action or not code:
            raise ValueError("--fail takes ACTION[:N]=CODE, not %r" % it)
        out.append((action, int(n or 1), code))
    return out


def parse_nth(items):
    """ACTION[:N][@TEXT]: (ACTION, N, TEXT or None)."""
    out = []
    for it in items:
        what, at, text = it.partition("@")
        action, _, n = what.partition(":")
        if not action or (at and not text):
            raise ValueError("takes ACTION[:N][@TEXT], not %r" % it)
        out.append((action, int(n or 1), text or None))
    return out


NTH = ("error500_of", "drop_of", "drop_answer_of", "error500_after", "empty_answer_of")


def nth(f, key, action, body):
    """This call is the N-th of ACTION (with @TEXT: of those whose body has TEXT) in f[key]."""
    seen = f["seen"]
    for a, n, text in f[key]:
        if a != action or (text and text not in body):
            continue
        if (seen[(action, text)] if text else seen[action]) == n:
            return True
    return False


def parse_delay(items):
    out = {}
    for it in items:
        action, _, ms = it.partition("=")
        if not action or not ms:
            raise ValueError("--delay takes ACTION=MS, not %r" % it)
        out[action] = int(ms) / 1000.0
    return out


def reset_counts():
    STATE.update(calls=0, forwarded=0, faults=0, by_action={})


def error_xml(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            "<Code>%s</Code><Message>%s</Message></Error></Errors>"
            "<RequestID>aws-proxy</RequestID></Response>" % (code, message)).encode()


def empty_items(payload):
    """The answer with every element holding <item>s emptied."""
    import xml.etree.ElementTree as ET
    ns = payload.split(b'xmlns="', 1)
    if len(ns) == 2:
        ET.register_namespace("", ns[1].split(b'"', 1)[0].decode())
    root = ET.fromstring(payload)
    for el in root.iter():
        items = [k for k in el if k.tag.split("}")[-1] == "item"]
        if items and el is not root:
            for k in items:
                el.remove(k)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def decide(action, body=""):
    """What to do with this EC2 call: (verdict, status, code)."""
    f = STATE["cfg"]
    seen = f["seen"]
    seen[action] = seen.get(action, 0) + 1
    for text in {t for k in NTH for a, _, t in f[k] if a == action and t and t in body}:
        seen[(action, text)] = seen.get((action, text), 0) + 1
    if f["n_dropped"] < f["drop"]:
        f["n_dropped"] += 1
        return "dropped", 0, None
    if f["n_throttled"] < f["throttle"]:
        f["n_throttled"] += 1
        return "throttled", 503, f["throttle_code"]
    if f["n_error500"] < f["error500"]:
        f["n_error500"] += 1
        return "error500", 500, "InternalError"
    if f["n_answer_dropped"] < f["drop_answer"]:
        f["n_answer_dropped"] += 1
        return "answer-dropped", 0, None
    if action in f["dependency_violation"] and seen[action] == 1:
        return "failed", 400, "DependencyViolation"
    for a, n, code in f["fail"]:
        if a == action and seen[action] == n:
            return "failed", 400, code
    if nth(f, "error500_of", action, body):
        return "error500", 500, "InternalError"
    if nth(f, "drop_of", action, body):
        return "dropped", 0, None
    if nth(f, "drop_answer_of", action, body):
        return "answer-dropped", 0, None
    if nth(f, "error500_after", action, body):
        return "done-error500", 500, "InternalError"
    if nth(f, "empty_answer_of", action, body):
        return "emptied", 0, None
    if f["fail_all"]:
        return "failed", 400, f["fail_all"]
    return "forwarded", 0, None


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: an answer is written as headers, then body; with Nagle on,
    # the body waited for the ACK of the headers, which the client delays
    # (about 40 ms a request, for every client, that AWS does not add)
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet: the test reads --log
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self, status, data, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def own(self, data):
        if self.command == "GET" and self.path == "/__proxy__/stats":
            with LOCK:
                s = {k: STATE[k] for k in ("calls", "forwarded", "faults", "by_action")}
            return self.answer(200, json.dumps(s).encode())
        if self.command == "POST" and self.path == "/__proxy__/config":
            try:
                faults = fresh_faults(json.loads(data or b"{}"))
            except (ValueError, TypeError) as e:
                return self.answer(400, json.dumps({"error": str(e)}).encode())
            with LOCK:
                STATE["cfg"] = faults
            return self.answer(200, b'{"status": "ok"}')
        if self.command == "POST" and self.path == "/__proxy__/reset":
            with LOCK:
                reset_counts()
                STATE["cfg"] = fresh_faults({})
            return self.answer(200, b'{"status": "ok"}')
        return self.answer(404, b'{"error": "no such proxy path"}')

    def forward(self, data, relay=True, status500=False, empty=False):
        up = STATE["upstream"]
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        conn.request(self.command, self.path, body=data, headers=headers)
        r = conn.getresponse()
        payload = r.read()
        conn.close()
        if empty and r.status == 200:
            payload = empty_items(payload)
        if not relay:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if status500:
            return self.answer(500, error_xml("InternalError", "injected by aws-proxy after the call was made"),
                               "text/xml")
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def handle_any(self):
        data = self.body()
        if self.path.startswith("/__proxy__/"):
            return self.own(data)
        action = None
        if self.command == "POST" and not self.path.startswith("/moto-api"):
            form = urllib.parse.parse_qs(data.decode("utf-8", "replace"))
            action = (form.get("Action") or [None])[0]
        if action is None:
            return self.forward(data)
        with LOCK:
            STATE["calls"] += 1
            STATE["by_action"][action] = STATE["by_action"].get(action, 0) + 1
            verdict, status, code = decide(action, data.decode("utf-8", "replace"))
            delay = STATE["cfg"]["delay"].get(action, 0)
            serial = action in STATE["cfg"]["serialize"]
            if verdict in ("forwarded", "answer-dropped", "done-error500", "emptied"):
                STATE["forwarded"] += 1
            if verdict != "forwarded":
                STATE["faults"] += 1
            if STATE["log"]:
                STATE["log"].write(json.dumps({
                    "method": self.command, "path": self.path,
                    "headers": [[k, v] for k, v in self.headers.items()],
                    "body": data.decode("utf-8", "replace"), "action": action,
                    "verdict": verdict, "peer": self.client_address[1]}) + "\n")
                STATE["log"].flush()
        if verdict == "dropped":
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if delay:
            time.sleep(delay)
        if serial:
            with ONE_AT_A_TIME:
                return self.relay(verdict, status, code, data)
        return self.relay(verdict, status, code, data)

    def relay(self, verdict, status, code, data):
        if verdict == "answer-dropped":
            return self.forward(data, relay=False)
        if verdict == "done-error500":
            return self.forward(data, status500=True)
        if verdict == "emptied":
            return self.forward(data, empty=True)
        if verdict != "forwarded":
            return self.answer(status, error_xml(code, "injected by aws-proxy"), "text/xml")
        return self.forward(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True)
    p.add_argument("-p", "--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--throttle", type=int, default=0)
    p.add_argument("--throttle-code")
    p.add_argument("--error500", type=int, default=0)
    p.add_argument("--drop", type=int, default=0)
    p.add_argument("--drop-answer", type=int, default=0)
    p.add_argument("--dependency-violation", action="append", default=[])
    p.add_argument("--fail", action="append", default=[])
    p.add_argument("--fail-all")
    p.add_argument("--error500-of", action="append", default=[])
    p.add_argument("--drop-of", action="append", default=[])
    p.add_argument("--drop-answer-of", action="append", default=[])
    p.add_argument("--error500-after", action="append", default=[])
    p.add_argument("--empty-answer-of", action="append", default=[])
    p.add_argument("--delay", action="append", default=[])
    p.add_argument("--serialize", action="append", default=[])
    p.add_argument("--log")
    a = p.parse_args()
    up = urllib.parse.urlsplit(a.upstream)
    if up.scheme != "http" or not up.hostname or not up.port:
        p.error("--upstream takes http://HOST:PORT")
    try:
        faults = fresh_faults(vars(a))
    except ValueError as e:
        p.error(str(e))
    STATE.update(upstream=up, cfg=faults, log=open(a.log, "a") if a.log else None)
    reset_counts()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Proxy)
    srv.daemon_threads = True
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        import os
        os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
