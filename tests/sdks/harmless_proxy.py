"""A proxy on loopback that changes every response of the server behind it in ways every client
reads alike: `; charset=utf-8` on the JSON Content-Type, an extra member in every JSON object
body (`"conformExtra": {"nested": true}`), keys in reverse order with pretty spacing, header
names in capitals, and another request id (each hex digit complemented, so the same id always
maps to the same other id and a UUID stays a UUID).

tests/sdks/check.sh runs the boto3 and aws-sdk-js checks a second time through it: they must
parse the same results as without it. Standard library only; listens on 127.0.0.1 only.

Usage: python3 harmless_proxy.py UPSTREAM_URL   (prints "listening on http://127.0.0.1:PORT")
"""

import http.client
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

upstream = urllib.parse.urlsplit(sys.argv[1])
JSON_TYPE = "application/x-amz-json-1.1"


def other_request_id(value):
    return "".join(format(15 - int(c, 16), "x") if c in "0123456789abcdefABCDEF" else c for c in value)


def reversed_pretty(value, depth=0):
    pad, end = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict) and value:
        members = [f"{pad}{json.dumps(k)}: {reversed_pretty(v, depth + 1)}" for k, v in reversed(list(value.items()))]
        return "{\n" + ",\n".join(members) + "\n" + end + "}"
    if isinstance(value, list) and value:
        return "[\n" + ",\n".join(pad + reversed_pretty(v, depth + 1) for v in value) + "\n" + end + "]"
    return json.dumps(value, ensure_ascii=False)


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except OSError:
            self.close_connection = True
            return
        finally:
            conn.close()
        is_json = (response.getheader("content-type") or "").lower() == JSON_TYPE
        if is_json:
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                parsed["conformExtra"] = {"nested": True}
                data = reversed_pretty(parsed).encode()
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            lower = name.lower()
            if lower in ("content-length", "connection", "transfer-encoding", "date", "server"):
                continue
            if lower == "content-type" and is_json:
                value = JSON_TYPE + "; charset=utf-8"
            elif lower == "x-amzn-requestid":
                value = other_request_id(value)
            self.send_header(name.upper(), value)
        self.send_header("CONTENT-LENGTH", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = forward

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
