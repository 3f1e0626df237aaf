"""SMS through the daemon as Twilio would drive it, checked with Twilio's own Python
library (`twilio` from PyPI): its RequestValidator signs every webhook, and its TwiML
builder says what the answer must be. The daemon's REST calls go to Prism, which checks
each against Twilio's OpenAPI description before the stand-in behind it takes it.

    python twilio_sms.py DAEMON STANDIN PUBLIC_URL ACCOUNT_SID AUTH_TOKEN

Ann Baker (+447700900001, gold) texts the acme number: the flow greets her by name and
sends its menu; a resent webhook changes nothing; she answers 1 and waits in billing; the
agent Ann accepts over the agents' protocol and writes back, and her text reaches the
phone. Bad signatures, bodies and numbers are refused. Exits 0 when every check holds.
"""

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from websockets.sync.client import connect

DAEMON, STANDIN, PUBLIC, ACCOUNT, TOKEN = sys.argv[1:6]
NUMBER = "+441632960000"
ANN = "+447700900001"
SECONDS = 10
validator = RequestValidator(TOKEN)
sids = iter(range(1, 10_000))


def fail(why):
    print(f"FAIL: {why}")
    sys.exit(1)


def check(condition, why):
    if not condition:
        fail(why)


def post(path, params, signature=None, body=None):
    """POSTs a form to the daemon, signed for the public URL as Twilio signs it."""
    if signature is None:
        signature = validator.compute_signature(PUBLIC + path, params)
    data = body if body is not None else urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(f"http://{DAEMON}{path}", data=data, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    try:
        with urllib.request.urlopen(request, timeout=SECONDS) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def sms(text, sid=None, sender=ANN, to=NUMBER):
    sid = sid or "SM%032x" % next(sids)
    params = {"ToCountry": "GB", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
              "Body": text, "To": to, "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT, "From": sender,
              "ApiVersion": "2010-04-01", "FromCountry": "GB"}
    return sid, params, post("/channels/twilio/sms", params)


def same_twiml(got, want):
    """The same XML tree: tags, attributes and text, in order."""
    def tree(e):
        return (e.tag, sorted(e.attrib.items()), (e.text or "").strip(), [tree(c) for c in e])
    return tree(ET.fromstring(got.encode())) == tree(ET.fromstring(want.encode()))


def sent():
    with urllib.request.urlopen(f"http://{STANDIN}/sent", timeout=SECONDS) as r:
        return json.loads(r.read())


def wait_sent(what, condition):
    deadline = time.time() + SECONDS
    while time.time() < deadline:
        s = sent()
        if condition(s["messages"]):
            return s
        time.sleep(0.1)
    fail(f"the provider never got {what}: {json.dumps(sent(), indent=1)}")


def to_ann(messages):
    return [m["body"] for m in messages if m["to"] == ANN]


def main():
    empty = str(MessagingResponse())

    # Ann texts in: an empty <Response/>, as the library writes it; the flow answers by REST.
    first, params, (status, kind, body) = sms("Hello")
    check(status == 200 and "xml" in kind, f"the webhook answers 200 with TwiML, not {status} {kind} {body}")
    check(same_twiml(body, empty), f"the answer is the library's empty response {empty}, not {body}")
    s = wait_sent("the greeting and the menu", lambda m: len(to_ann(m)) >= 2)
    check(to_ann(s["messages"])[:2] == ["Hi Ann Baker, thanks for texting Acme.", "Reply 1 for billing or 2 for support."],
          f"the flow's texts, in order: {to_ann(s['messages'])}")
    for m in s["messages"]:
        check(m["from"] == NUMBER, f"replies come from the number Ann texted: {m}")
        check(m["token"] and m["status_callback"].startswith(PUBLIC + "/channels/twilio/status?key="),
              f"each has an idempotency token and a status callback on the public URL: {m}")

    # The same webhook again (Twilio retries): acknowledged, and nothing happens twice.
    status, _, body = post("/channels/twilio/sms", params)
    check(status == 200 and same_twiml(body, empty), f"a repeat is acknowledged: {status} {body}")
    time.sleep(1)
    check(len(to_ann(sent()["messages"])) == 2, f"a repeat sends nothing: {to_ann(sent()['messages'])}")

    # Refusals: each says why, and changes nothing.
    bad = dict(params, MessageSid="SM" + "f" * 32, SmsSid="SM" + "f" * 32)
    status, _, body = post("/channels/twilio/sms", bad, signature="bm90IGEgc2lnbmF0dXJl")
    check(status == 403 and "X-Twilio-Signature" in body, f"a bad signature is 403: {status} {body}")
    signed_elsewhere = validator.compute_signature("http://" + DAEMON + "/channels/twilio/sms", bad)
    status, _, body = post("/channels/twilio/sms", bad, signature=signed_elsewhere)
    check(status == 403, f"a signature over another URL than the public one is 403: {status} {body}")
    no_from = {k: v for k, v in bad.items() if k != "From"}
    status, _, body = post("/channels/twilio/sms", no_from)
    check(status == 400 and "From" in body, f"a form without From is 400: {status} {body}")
    _, _, (status, _, body) = sms("Hello", to="+441632960999")
    check(status == 404 and "+441632960999" in body, f"a number no entry answers is 404: {status} {body}")
    status, _, body = post("/channels/twilio/sms", {}, body=b"Body=" + b"x" * 70_000)
    check(status == 413, f"an oversized body is refused: {status} {body}")
    time.sleep(0.5)
    check(len(to_ann(sent()["messages"])) == 2, "no refusal sent anything")

    # The agent Ann takes the text: billing is her skill.
    agent = connect(f"ws://{DAEMON}/agent/ws", open_timeout=SECONDS)

    def recv(kind, **match):
        while True:
            m = json.loads(agent.recv(timeout=SECONDS))
            if m.get("type") == kind and all(m.get(k) == v for k, v in match.items()):
                return m

    agent.send(json.dumps({"type": "login", "agent": "ann", "password": "demo"}))
    recv("welcome")
    agent.send(json.dumps({"type": "presence", "presence": "available", "ref": "p"}))
    recv("ok", ref="p")
    _, _, (status, _, _) = sms("1")
    check(status == 200, "the menu's answer is taken")
    offer = recv("offer")
    check(offer["channel"] == "sms" and offer["from"] == ANN, f"the offer says SMS and who: {offer}")
    agent.send(json.dumps({"type": "accept", "offer": offer["offer"], "ref": "a"}))
    recv("ok", ref="a")
    contact = offer["contact"]
    agent.send(json.dumps({"type": "message", "contact": contact, "id": "ann-1", "text": "Hi, Ann from billing here."}))
    wait_sent("the agent's text", lambda m: "Hi, Ann from billing here." in to_ann(m))
    # Ann's next text reaches the agent on the same contact.
    _, _, (status, _, _) = sms("Thanks, I was charged twice")
    m = recv("message", contact=contact, text="Thanks, I was charged twice")
    check(m["from"] == "customer", f"the customer's text, on her contact: {m}")
    agent.close()

    # A status callback for a message sent is taken (signed over the URL with its key).
    message = sent()["messages"][0]
    callback = {"MessageSid": message["sid"], "MessageStatus": "delivered", "AccountSid": ACCOUNT,
                "To": ANN, "From": NUMBER, "ApiVersion": "2010-04-01"}
    path = message["status_callback"][len(PUBLIC):]
    status, _, body = post(path, callback)
    check(status == 200 and same_twiml(body, empty), f"the status callback is taken: {status} {body}")
    status, _, body = post(path, dict(callback, MessageStatus="exploded"))
    check(status == 400, f"an unknown status is 400: {status} {body}")

    s = sent()
    check(len({m["token"] for m in s["messages"]}) == len(s["messages"]), "every message has a token of its own")
    print(json.dumps({"messages": len(s["messages"]), "requests": s["requests"], "repeats": s["repeats"]}))
    print("OK")


if __name__ == "__main__":
    main()
