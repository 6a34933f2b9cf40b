#!/usr/bin/env python3
# A stand-in for vdcfs's agent server (docs/agent-protocol.md), for the
# tests of an agent's side of a protocol vdcfs does not speak yet
# (96b-sta-image-disk.t). It serves one host over HTTPS with the key
# KEY and certificate CERT:
#
#   POST /v1/join                       any body: {"name", "token": TOKEN}
#   GET  /v1/hosts/NAME/desired?rev=R   the JSON of DIR/desired.json; waits
#                                       up to `wait` seconds while its "rev"
#                                       is not above R
#   POST /v1/hosts/NAME/report          saved as DIR/report.json (and each
#                                       one appended to DIR/reports.log)
#   GET  /v1/hosts/NAME/images/IMAGE    DIR/images/IMAGE with X-Vdc-Sha256,
#                                       sent in 64 KiB pieces with DELAY
#                                       seconds between them; 404 if absent
#
# Usage: fake-vdcfs.py ADDR PORTFILE DIR KEY CERT TOKEN DELAY
# (port 0: any; the port chosen is written to PORTFILE).
import hashlib
import http.server
import json
import os
import ssl
import sys
import time
import urllib.parse

addr, portfile, root, key, cert, token, delay = sys.argv[1:8]
delay = float(delay)


def desired():
    try:
        with open(os.path.join(root, "desired.json")) as f:
            return f.read()
    except OSError:
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-vdcfs: " + (fmt % args) + "\n")

    def answer(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        body = self.body()
        if url.path == "/v1/join":
            req = json.loads(body or b"{}")
            self.answer(200, json.dumps({"name": req.get("name", ""), "token": token}))
        elif url.path.endswith("/report"):
            tmp = os.path.join(root, ".report.json")
            with open(tmp, "wb") as f:
                f.write(body)
            os.rename(tmp, os.path.join(root, "report.json"))
            with open(os.path.join(root, "reports.log"), "ab") as f:
                f.write(body + b"\n")
            self.answer(200, '{"ok": true}')
        else:
            self.answer(404, '{"error": "no such path"}')

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        parts = url.path.split("/")
        if url.path.endswith("/desired"):
            rev = int(q.get("rev", ["0"])[0])
            until = time.time() + min(int(q.get("wait", ["25"])[0]), 30)
            while True:
                doc = desired()
                if doc and (json.loads(doc)["rev"] > rev or rev == 0 or time.time() >= until):
                    break
                time.sleep(0.2)
            self.answer(200, doc or "{}")
        elif len(parts) == 6 and parts[4] == "images":
            path = os.path.join(root, "images", parts[5])
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                self.answer(404, '{"error": "no such image"}')
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Vdc-Sha256", hashlib.sha256(data).hexdigest())
            self.end_headers()
            for i in range(0, len(data), 65536):
                self.wfile.write(data[i:i + 65536])
                if delay:
                    time.sleep(delay)
        else:
            self.answer(404, '{"error": "no such path"}')


server = http.server.ThreadingHTTPServer((addr, 0), Handler)
server.daemon_threads = True
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
