"""One web chat through the acme flows (flows/), driven with the `websockets` library from
PyPI: the customer's widget protocol and the agents' protocol, as the README documents
them, spoken by a client that Switchboard did not write.

    python acme_chat.py 127.0.0.1:8080

A platinum customer (Raj Kumar, raj@example.org in flows/data/customers.csv) is open to
at any hour, so the test does not depend on the office's hours. Exits 0 when every check
holds; otherwise prints what failed and exits 1.
"""

import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

ADDR = sys.argv[1]
SECONDS = 10


class Peer:
    """One WebSocket, with what it has been sent kept in order."""

    def __init__(self, path, name):
        self.ws = connect(f"ws://{ADDR}{path}", open_timeout=SECONDS)
        self.name = name
        self.seen = []

    def put(self, **message):
        self.ws.send(json.dumps(message))

    def next(self):
        message = json.loads(self.ws.recv(timeout=SECONDS))
        self.seen.append(message)
        return message

    def until(self, kind, text=None, ref=None):
        """The next message of `kind` (with `text`, answering `ref`), skipping others."""
        while True:
            m = self.next()
            if m.get("type") == "error" and kind != "error":
                fail(f"{self.name} was told: {m}")
            if m.get("type") == kind and text in (None, m.get("text")) and ref in (None, m.get("ref")):
                return m

    def close(self):
        self.ws.close()


def fail(why):
    print(f"FAIL: {why}", flush=True)
    sys.exit(1)


def check(condition, why):
    if not condition:
        fail(why)


def main():
    # The agents' connection: a wrong password is refused, the right one welcomed.
    intruder = Peer("/agent/ws", "intruder")
    intruder.put(type="login", agent="ann", password="wrong")
    refused = intruder.next()
    check(refused["type"] == "error" and refused["status"] == 401, f"a wrong password gives 401: {refused}")
    intruder.close()

    ann = Peer("/agent/ws", "ann")
    ann.put(type="login", agent="ann", password="demo")
    welcome = ann.until("welcome")
    check(welcome["agent"]["id"] == "ann" and welcome["token"], f"the welcome names Ann: {welcome}")
    ann.put(type="presence", presence="available", ref="p")
    ann.until("ok", ref="p")
    # A frame that is not JSON gets a 400, and the connection stays open.
    ann.ws.send("this is not json")
    bad = ann.next()
    check(bad["type"] == "error" and bad["status"] == 400, f"a frame that is not JSON gives 400: {bad}")

    # The customer opens the widget with the pre-chat form.
    customer = Peer("/chat/ws", "customer")
    customer.put(type="hello", name="Raj", email="Raj@Example.org")
    conversation = customer.until("conversation")
    contact, token = conversation["contact"], conversation["token"]
    customer.until("message", "Welcome back, Raj Kumar.")

    # Raj is platinum: the vip queue, which only Ann serves; the offer rings at her.
    offer = ann.until("offer")
    check(offer["contact"] == contact and offer["channel"] == "chat", f"the offer is Raj's chat: {offer}")
    # Raj (the agent) has no vip_care skill: he is never offered it and may not take it.
    raj = Peer("/agent/ws", "raj")
    raj.put(type="login", agent="raj", password="demo")
    raj.until("welcome")
    raj.put(type="accept", offer=offer["offer"], ref="steal")
    stolen = raj.until("error")
    check(stolen["status"] == 403 and stolen["ref"] == "steal", f"another agent's offer is refused: {stolen}")
    raj.close()

    ann.put(type="accept", offer=offer["offer"], ref="a")
    view = ann.until("contact")
    check(view["record"]["name"] == "Raj Kumar" and view["record"]["tier"] == "platinum",
          f"Ann sees the record the flow looked up: {view}")
    texts = [m.get("text") for m in view["transcript"]]
    check("Welcome back, Raj Kumar." in texts, f"…and the transcript so far: {texts}")
    ann.until("ok", ref="a")

    # Both ways, and the customer's reload resumes from its cursor with nothing twice.
    ann.put(type="message", contact=contact, id="a1", text="Hello Raj, Ann here. How can I help?")
    hello = customer.until("message", "Hello Raj, Ann here. How can I help?")
    check(hello["from"] == "agent" and hello["name"] == "Ann Agent", f"the agent's message: {hello}")
    customer.put(type="message", id="m1", text="I was charged twice.")
    ack = customer.until("ack")
    check(ack["id"] == "m1", f"the customer's message is acknowledged by its id: {ack}")
    ann.until("message", "I was charged twice.")
    cursor = max(m["id"] for m in customer.seen if "id" in m and m.get("type") == "message" and isinstance(m["id"], int))
    customer.close()
    customer = Peer("/chat/ws", "customer again")
    customer.put(type="hello", token=token, cursor=cursor)
    again = customer.until("conversation")
    check(again["contact"] == contact, f"the token resumes the same conversation: {again}")
    # A resend of an acknowledged message is harmless.
    customer.put(type="message", id="m1", text="I was charged twice.")
    check(customer.until("ack")["id"] == "m1", "the resend is acknowledged")

    # The script, as the agent follows it: say, choose, an ask validated by type, outcome.
    ann.put(type="script", contact=contact, script="billing_call", ref="s")
    session = ann.until("ok", ref="s")["result"]["session"]
    ann.until("script", "Hello Raj Kumar, thanks for holding. I can see you're a platinum customer.")
    choose = ann.until("script", "What is the call about?")
    check([o["label"] for o in choose["options"]] == ["A wrong amount", "Paying a balance", "Something else"],
          f"the choice's options: {choose}")
    ann.put(type="script_reply", session=session, text="A wrong amount")
    ask = ann.until("script", "How much is in dispute?")
    check(ask["ask"] == "money", f"the ask says its type: {ask}")
    ann.put(type="script_reply", session=session, text="thirty quid")
    ann.until("script", "How much is in dispute?")  # asked again: not an amount
    ann.put(type="script_reply", session=session, text="£30")
    ann.until("script", "I've removed that charge for you.")

    # Wrap-up: the agent finishes, sets the outcome, and the customer's survey runs.
    ann.put(type="message", contact=contact, id="a2", text="Done: the second charge is gone.")
    customer.until("message", "Done: the second charge is gone.")
    ann.put(type="finish", contact=contact, ref="f")
    ann.until("ok", ref="f")
    ann.put(type="outcome", contact=contact, outcome="resolved", ref="o")
    ann.until("ok", ref="o")
    solved = customer.until("message", "Was your problem solved today?")
    check(solved["ask"] == "yesno" and [o["key"] for o in solved["options"]] == ["yes", "no"],
          f"the survey's first question, with buttons: {solved}")
    customer.put(type="message", id="s1", text="yes")
    score = customer.until("message", "How happy were you with our service, from 1 to 5?")
    check(score["ask"] == "range" and (score["min"], score["max"]) == (1, 5)
          and [o["key"] for o in score["options"]] == ["1", "2", "3", "4", "5"], f"a scale of buttons: {score}")
    customer.put(type="message", id="s2", text="5")
    customer.until("ack")

    # Counted by message id on the client side: nothing the customer was sent came twice.
    ids = [m["id"] for m in customer.seen if m.get("type") == "message"]
    check(len(ids) == len(set(ids)), f"no message came twice after the reload: {ids}")
    # /metrics, read by Prometheus's own parser: the vip queue on chat offered and answered
    # one contact, within its target, and the journal's commits were timed.
    with urllib.request.urlopen(f"http://{ADDR}/metrics", timeout=SECONDS) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    vip = (("channel", "chat"), ("queue", "vip"))
    check(samples.get(("switchboard_queue_offered_total", vip)) == 1, f"vip offered 1: {samples}")
    check(samples.get(("switchboard_queue_answered_total", vip)) == 1, "vip answered 1")
    check(samples.get(("switchboard_queue_service_level", vip)) == 1.0, "vip service level 1")
    check(samples.get(("switchboard_journal_commit_seconds_count", ())) >= 10, "journal commits timed")
    check(samples.get(("switchboard_engine_step_seconds_count", ())) >= 10, "engine steps timed")
    check(samples.get(("switchboard_agents", (("state", "wrap_up"),))) is not None, "agents by state")

    # Raj comes back: Ann sees his earlier contact, with its waypoints, outcome, survey and
    # transcript, matched by his email and his customer id.
    customer.close()
    back = Peer("/chat/ws", "Raj again")
    back.put(type="hello", name="Raj", email="raj@example.org")
    second = back.until("conversation")["contact"]
    back.until("message", "Welcome back, Raj Kumar.")
    offer = ann.until("offer")
    check(offer["contact"] == second, f"Raj's second chat rings at Ann: {offer}")
    ann.put(type="accept", offer=offer["offer"], ref="a2")
    view = ann.until("contact")
    history = view["history"]
    check(len(history) == 1, f"one earlier contact: {history}")
    past = history[0]
    check(past["contact"] == contact and past["channel"] == "chat" and past["agent"] == "ann",
          f"the earlier chat, answered by Ann: {past}")
    check("vip" in past["waypoints"] and past["outcome"] == "resolved", f"its waypoints and outcome: {past}")
    check(past["survey"] == ["yes", "5"], f"its survey answers: {past}")
    said = [line["text"] for line in past["transcript"]]
    check("I was charged twice." in said and "Done: the second charge is gone." in said,
          f"its transcript: {said}")
    back.close()

    print(json.dumps({"contact": contact, "customer_messages": len(ids), "score_question": score["text"]}))
    print("OK")


if __name__ == "__main__":
    main()
