"""A reverse proxy in front of s3rver that checks AWS Signature V4 the way S3 does, written here
from AWS's published algorithm because s3rver checks only the access key id. A GET whose
signature does not match the secret gets S3's 403 SignatureDoesNotMatch; one without an
Authorization header gets 403 AccessDenied; the rest is forwarded to s3rver unchanged.
Used by test_s3_repository.py to check the requests inferd signs through libcurl."""

import hashlib
import hmac
import http.client
import http.server
import re
import threading
import urllib.parse

AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, *"
                  r"SignedHeaders=([^,]+), *Signature=([0-9a-f]{64})")


def _encode(s, safe):
    return urllib.parse.quote(urllib.parse.unquote(s), safe=safe)


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def expected_signature(secret, method, raw_path, headers, date, region, signed_headers):
    """The signature S3 computes for a request (path and query as they were sent)."""
    path, _, query = raw_path.partition("?")
    pairs = [p.partition("=") for p in query.split("&") if p]
    canonical_query = "&".join(sorted(f"{_encode(k, '-_.~')}={_encode(v, '-_.~')}"
                                      for k, _, v in pairs))
    names = signed_headers.split(";")
    canonical_headers = "".join(f"{n}:{' '.join(headers.get(n, '').split())}\n" for n in names)
    canonical = "\n".join([method, _encode(path, "/-_.~"), canonical_query, canonical_headers,
                           signed_headers, headers.get("x-amz-content-sha256", "")])
    scope = f"{date}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", headers.get("x-amz-date", ""), scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, "s3", "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class SigV4Proxy:
    """Listens on 127.0.0.1:<port>; `requests` records (path, signed headers) of good ones."""

    def __init__(self, upstream_port, secret):
        self.requests = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply_error(self, code, message):
                body = (f"<?xml version=\"1.0\"?><Error><Code>{code}</Code>"
                        f"<Message>{message}</Message></Error>").encode()
                self.send_response(403)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                headers = {k.lower(): v for k, v in self.headers.items()}
                m = AUTH.fullmatch(headers.get("authorization", ""))
                if m is None:
                    return self.reply_error("AccessDenied", "Access Denied")
                _, date, region, signed, signature = m.groups()
                want = expected_signature(secret, "GET", self.path, headers, date, region, signed)
                if not hmac.compare_digest(want, signature):
                    return self.reply_error(
                        "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature "
                        "you provided. Check your key and signing method.")
                proxy.requests.append((self.path, signed))
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=20)
                conn.request("GET", self.path, headers={k: v for k, v in self.headers.items()})
                r = conn.getresponse()
                body = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                conn.close()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
