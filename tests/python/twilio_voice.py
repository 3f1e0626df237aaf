"""A call through the acme voice flow as Twilio drives it: every webhook signed with the
`twilio` library's RequestValidator, and every answer compared, verb for verb, with what
that library's TwiML builder (VoiceResponse) makes for the expected verbs.

    python twilio_voice.py DAEMON PUBLIC_URL ACCOUNT_SID AUTH_TOKEN STANDIN

An unknown caller hears the greeting and the menu (a Gather), presses a wrong key (the
menu again, as in `switchboard test`), presses 1 (billing: Enqueue, whose waitUrl plays
"You are number 1 in line"), takes the callback the queue offers and keeps the number
they called from; the call ends and its status callback ends the contact. Bad
signatures and unknown numbers are refused. Then Ann Baker (gold) calls: the agent Ann
accepts, the call is connected to her (Dial), her script takes a payment, the daemon
moves the call to Pay through the REST API, and Pay's result reaches her screen.
Prints the calls' contact ids and OK.
"""

import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse
from websockets.sync.client import connect
import json

DAEMON, PUBLIC, ACCOUNT, TOKEN, STANDIN = sys.argv[1:6]
NUMBER = "+441632960000"
CALLER = "+447700900555"
SID = "CA" + "5" * 32
validator = RequestValidator(TOKEN)


def fail(why):
    print(f"FAIL: {why}")
    sys.exit(1)


def check(condition, why):
    if not condition:
        fail(why)


def post(url, params, signature=None):
    """POSTs `params` to `url` (a public URL, as Twilio has it) at the daemon."""
    if signature is None:
        signature = validator.compute_signature(url, params)
    path = url[len(PUBLIC):]
    request = urllib.request.Request(f"http://{DAEMON}{path}", data=urllib.parse.urlencode(params).encode(),
                                     method="POST", headers={"X-Twilio-Signature": signature,
                                                             "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def call(sid=SID, caller=CALLER, **extra):
    return dict({"CallSid": sid, "AccountSid": ACCOUNT, "From": caller, "To": NUMBER, "CallStatus": "in-progress",
                 "Direction": "inbound", "ApiVersion": "2010-04-01"}, **extra)


def tree(text):
    def walk(e):
        return (e.tag, sorted(e.attrib.items()), (e.text or "").strip(), [walk(c) for c in e])
    return walk(ET.fromstring(text.encode()))


def same(got, want, what):
    check(tree(got) == tree(str(want)), f"{what}:\n got  {got}\n want {want}")


def root(text):
    return ET.fromstring(text.encode())


def main():
    url = PUBLIC + "/channels/twilio/voice"
    status, body = post(url, call(), signature="bm90IGEgc2lnbmF0dXJl")
    check(status == 403, f"a bad signature is 403: {status} {body}")
    status, body = post(url, call(CallSid="CA" + "6" * 32, To="+441632960999"))
    check(status == 404, f"a number no entry answers is 404: {status} {body}")
    # First the caller an agent takes (before a kept callback claims the agent).
    paying_call()

    # The greeting and the menu, gathered: the library's Gather with the same action.
    status, body = post(url, call(CallStatus="ringing"))
    check(status == 200, f"the call is answered: {status} {body}")
    r = root(body)
    gather = r.find("Gather")
    check(gather is not None, f"the menu waits for a key: {body}")
    action = gather.get("action")
    language = r.find("Gather/Say").get("language")
    want = VoiceResponse()
    g = Gather(input="dtmf speech", action=action, method="POST", timeout=8, num_digits=1)
    g.say("Welcome to Acme Devices.", language=language)
    g.say("For billing press 1. For technical support press 2.", language=language)
    want.append(g)
    want.redirect(action, method="POST")
    same(body, want, "the greeting and the menu")
    check(language == "en-GB", f"spoken in the caller's language and country: {language}")
    contact = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(action).query))["contact"]

    # A wrong key: the menu again, as `switchboard test` has it.
    status, body = post(action, call(Digits="9"))
    r = root(body)
    check(r.find("Gather") is not None and "For billing press 1" in body, f"the menu again after 9: {body}")
    action = r.find("Gather").get("action")

    # 1: billing. The call waits in the queue: the library's Enqueue, with our waitUrl.
    status, body = post(action, call(Digits="1"))
    r = root(body)
    enqueue = r.find("Enqueue")
    check(enqueue is not None, f"the call is queued: {body}")
    want = VoiceResponse()
    for say in r.findall("Say"):
        want.say(say.text, language=say.get("language"))
    want.enqueue(f"contact-{contact}", wait_url=enqueue.get("waitUrl"), wait_url_method="POST",
                 action=enqueue.get("action"))
    same(body, want, "the Enqueue")

    # The waitUrl: the queue's announcement, then a pause and back; then the callback
    # offer takes the call out of the queue (Leave) to answer it.
    wait = enqueue.get("waitUrl")
    heard, left = [], False
    deadline = time.time() + 20
    while time.time() < deadline and not left:
        status, body = post(wait, call(QueuePosition="1", QueueTime="2"))
        r = root(body)
        heard += [s.text for s in r.findall("Say")]
        if r.find("Leave") is not None:
            left = True
            want = VoiceResponse()
            want.leave()
            same(body, want, "leaving the queue")
        else:
            wait = r.find("Redirect").text
    check("You are number 1 in line." in heard, f"the queue's announcement: {heard}")
    check(left, f"the callback offer takes the call out of the queue: heard {heard}, last {body}")
    status, body = post(enqueue.get("action"), call(QueueResult="leave"))
    check("To be called back, press 1" in body and root(body).find("Gather") is not None,
          f"the callback offer, gathered: {body}")
    status, body = post(root(body).find("Gather").get("action"), call(Digits="1"))
    r = root(body)
    want = VoiceResponse()
    for say in r.findall("Say"):
        want.say(say.text, language=say.get("language"))
    want.hangup()
    same(body, want, "the callback kept")
    check("We'll call you back on the number ending 0555, and you keep your place" in r.find("Say").text,
          f"the callback kept on the caller's number, and the call ends: {body}")

    # The call's status callback.
    status, body = post(PUBLIC + "/channels/twilio/voice/status", call(CallStatus="completed", CallDuration="31"))
    same(body, VoiceResponse(), "the status callback's answer")
    print(f"contact {contact}")
    callback_call(contact)


def callback_call(contact):
    """The kept callback's turn: Ann takes it, the daemon places the call through the
    Calls API (checked by Prism), and the answered call is connected to Ann."""
    agent, recv = available_agent()
    offer = recv("offer")
    check(str(offer["contact"]) == str(contact), f"the callback is offered to Ann: {offer}")
    agent.send(json.dumps({"type": "accept", "offer": offer["offer"], "ref": "a"}))
    recv("ok", ref="a")
    deadline, placed = time.time() + 10, []
    while time.time() < deadline and not placed:
        with urllib.request.urlopen(f"http://{STANDIN}/sent", timeout=10) as r:
            placed = [c for c in json.loads(r.read())["calls"] if c.get("placed")]
        time.sleep(0.1)
    check(len(placed) == 1, f"one call placed through Calls.json: {placed}")
    c = placed[0]
    check(c["to"] == CALLER and c["from"] == NUMBER and c["token"],
          f"to the caller, from the number they called, with its statuses: {c}")
    out_sid = c["sid"]
    status, body = post(c["url"], call(sid=out_sid, caller=NUMBER, To=CALLER, Direction="outbound-api"))
    r = root(body)
    want = VoiceResponse()
    want.say(r.find("Say").text)
    d = Dial()
    d.client("ann")
    want.append(d)
    same(body, want, "the answered callback connected to Ann")
    status, body = post(c["status_callback"], call(sid=out_sid, caller=NUMBER, To=CALLER, CallStatus="completed",
                                                   Direction="outbound-api", CallDuration="95"))
    same(body, VoiceResponse(), "the call's end")
    agent.close()
    print("OK")


def available_agent():
    """Ann, logged in over the agents' protocol and available: her socket, and a function
    that reads it until a message of a kind (with given fields) arrives."""
    agent = connect(f"ws://{DAEMON}/agent/ws", open_timeout=10)

    def recv(kind, **match):
        while True:
            m = json.loads(agent.recv(timeout=20))
            if m.get("type") == kind and all(m.get(k) == v for k, v in match.items()):
                return m

    agent.send(json.dumps({"type": "login", "agent": "ann", "password": "demo"}))
    recv("welcome")
    agent.send(json.dumps({"type": "presence", "presence": "available", "ref": "p"}))
    recv("ok", ref="p")
    return agent, recv


def paying_call():
    sid, ann_phone = "CA" + "7" * 32, "+447700900001"
    agent, recv = available_agent()
    status, body = post(PUBLIC + "/channels/twilio/voice", call(sid=sid, caller=ann_phone))
    check("Welcome back, Ann Baker." in body, f"Ann is greeted by name: {body}")
    offer = recv("offer")
    check(offer["channel"] == "voice" and offer["from"] == ann_phone, f"the offer says voice and who: {offer}")
    agent.send(json.dumps({"type": "accept", "offer": offer["offer"], "ref": "a"}))
    recv("ok", ref="a")
    contact = offer["contact"]

    # The call, ringing or queued, is connected to Ann: the library's Dial to her Client.
    deadline = time.time() + 20
    while root(body).find("Dial") is None and time.time() < deadline:
        r = root(body)
        if r.find("Redirect") is not None:
            status, body = post(r.find("Redirect").text, call(sid=sid, caller=ann_phone))
        elif r.find("Enqueue") is not None:
            status, wait = post(r.find("Enqueue").get("waitUrl"), call(sid=sid, caller=ann_phone))
            if root(wait).find("Leave") is not None:
                status, body = post(r.find("Enqueue").get("action"), call(sid=sid, caller=ann_phone,
                                                                         QueueResult="leave"))
        else:
            break
    dial = root(body).find("Dial")
    check(dial is not None, f"the call is connected to the agent: {body}")
    want = VoiceResponse()
    d = Dial(action=dial.get("action"))
    d.client("ann")
    want.append(d)
    same(body, want, "the Dial to Ann")

    # Her script takes a payment: the daemon moves the call to Pay through the REST API.
    agent.send(json.dumps({"type": "script", "contact": contact, "script": "billing_call", "ref": "s"}))
    choose = recv("script", text="What is the call about?")
    agent.send(json.dumps({"type": "script_reply", "session": choose["session"], "text": "Paying a balance"}))
    ask = recv("script", text="How much does the customer want to pay?")
    agent.send(json.dumps({"type": "script_reply", "session": ask["session"], "text": "£25"}))
    waiting = recv("payment")
    check(waiting["status"] == "waiting", f"Ann sees the payment under way: {waiting}")
    deadline = time.time() + 10
    while time.time() < deadline:
        with urllib.request.urlopen(f"http://{STANDIN}/sent", timeout=10) as r:
            calls = json.loads(r.read())["calls"]
        if calls:
            break
        time.sleep(0.1)
    check(len(calls) == 1 and calls[0]["sid"] == sid, f"the call was updated once through Calls/{{sid}}.json: {calls}")
    status, body = post(calls[0]["url"], call(sid=sid, caller=ann_phone))
    pay = root(body).find("Pay")
    check(pay is not None, f"the call is sent to Pay: {body}")
    want = VoiceResponse()
    want.pay(charge_amount="25.00", currency="gbp", action=pay.get("action"))
    same(body, want, "the Pay")
    status, body = post(pay.get("action"), call(sid=sid, caller=ann_phone, Result="success",
                                               PaymentConfirmationCode="ch_a9dc6297cd1a4fb095e61b1a9cf2dd1d",
                                               PaymentCardNumber="xxxxxxxxxxxx1111", PaymentCardType="visa"))
    check(root(body).find("Dial/Client") is not None, f"after paying, the caller is back with Ann: {body}")
    done = recv("payment", status="captured")
    check("1111" not in json.dumps(done), f"no digit of the card on Ann's screen: {done}")
    agent.send(json.dumps({"type": "finish", "contact": contact, "ref": "f"}))
    recv("ok", ref="f")
    agent.send(json.dumps({"type": "outcome", "contact": contact, "outcome": "resolved", "ref": "o"}))
    recv("ok", ref="o")
    agent.close()
    print(f"paying contact {contact}")


if __name__ == "__main__":
    main()
