"""The provider behind Prism: Prism (`prism proxy`, from npm) checks every request the
daemon makes against Twilio's published OpenAPI description and forwards the valid ones
here. This counts messages by their idempotency token, as Twilio does: a request with a
token already seen is the same message, answered the same and not counted again.

    python twilio_standin.py PORT SPEC

GET /sent answers what was taken: {"messages": [...], "calls": [...], "requests": N, "repeats": N}.
A call in progress is updated with POST …/Calls/{CallSid}.json (a new Url for it).
A message to +15005550009 is refused as Twilio refuses an opted-out number (21610).
Answers are the spec's own example of a created message, with this message's fields.
"""

import base64
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, SPEC = int(sys.argv[1]), sys.argv[2]
with open(SPEC) as f:
    spec = json.load(f)
EXAMPLE = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages.json"]["post"]["responses"]["201"][
    "content"]["application/json"]["examples"]["create"]["value"]
PLACED = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Calls.json"]["post"]["responses"]["201"][
    "content"]["application/json"]["examples"]["create"]["value"]
CALL = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json"]["post"]["responses"]["200"][
    "content"]["application/json"]["examples"]["update"]["value"]

lock = threading.Lock()
by_token = {}
messages = []
calls = []
counts = {"requests": 0, "repeats": 0}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/sent":
            with lock:
                self.answer(200, {"messages": messages, "calls": calls, **counts})
        else:
            self.answer(404, {"message": "not here"})

    def do_POST(self):
        parts = self.path.split("/")
        if len(parts) == 6 and parts[4] == "Calls" and parts[5].endswith(".json"):
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            sid = parts[5][:-len(".json")]
            with lock:
                calls.append({"sid": sid, "url": form.get("Url"), "method": form.get("Method")})
            return self.answer(200, dict(CALL, sid=sid, account_sid=parts[3],
                                         uri=f"/2010-04-01/Accounts/{parts[3]}/Calls/{sid}.json"))
        if len(parts) == 5 and parts[4] == "Calls.json":
            length = int(self.headers.get("Content-Length", "0"))
            pairs = urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)
            form = dict(pairs)
            with lock:
                sid = "CA%032x" % (len(calls) + 1000)
                calls.append({"placed": True, "sid": sid, "to": form.get("To"), "from": form.get("From"),
                              "url": form.get("Url"), "status_callback": form.get("StatusCallback"),
                              "events": [v for k, v in pairs if k == "StatusCallbackEvent"],
                              "token": self.headers.get("I-Twilio-Idempotency-Token", "")})
            return self.answer(201, dict(PLACED, sid=sid, account_sid=parts[3], to=form.get("To"),
                                         uri=f"/2010-04-01/Accounts/{parts[3]}/Calls/{sid}.json"))
        if len(parts) != 5 or parts[1] != "2010-04-01" or parts[4] != "Messages.json":
            return self.answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
        account = parts[3]
        auth = self.headers.get("Authorization", "")
        user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0] if auth.startswith("Basic ") else ""
        if user != account:
            return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        token = self.headers.get("I-Twilio-Idempotency-Token", "")
        with lock:
            counts["requests"] += 1
            if token and token in by_token:
                counts["repeats"] += 1
                return self.answer(201, by_token[token])
            if form.get("To") == "+15005550009":
                return self.answer(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient",
                                         "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400})
            n = len(messages) + 1
            body = dict(EXAMPLE, account_sid=account, sid="SM%032x" % n, to=form.get("To"),
                        body=form.get("Body"), status="queued", num_segments="1")
            body["from"] = form.get("From")
            body["uri"] = f"/2010-04-01/Accounts/{account}/Messages/{body['sid']}.json"
            by_token[token] = body
            messages.append({"token": token, "to": form.get("To"), "from": form.get("From"),
                             "body": form.get("Body"), "status_callback": form.get("StatusCallback"),
                             "sid": body["sid"]})
        self.answer(201, body)


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
