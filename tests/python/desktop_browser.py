"""The agent desktop and the chat widget in real Chromium (Debian's chromium and
chromedriver), driven with Selenium from PyPI, each browser a context of its own.

    python desktop_browser.py 127.0.0.1:8080 SCREENSHOT_DIR GRAPH_SVG

First Raj (raj@example.org, platinum) has an earlier chat, over the protocol with the
`websockets` library, that Ann wraps up. Then, in the browsers: Raj chats in the widget on
the demo page; Ann logs in to the desktop, goes available, the offer rings, she accepts,
sees Raj's record and his earlier contact, follows the billing script through a choice
and an ask (a wrong answer shows its error beside the input), picks a suggested reply from
the keyboard (the `reply` templates the Rust test adds to its copy of the project, filled
in with Raj's record and her name), edits it and sends it to Raj, and wraps up with an
outcome and a note. Raj sees her messages and answers the survey in the widget. A manager
watches the wallboard count it; then, as a reviewer, she finds the chat among the ended
contacts, reads its transcript and Ann's script path, and scores it on the scorecard the
Rust test adds (62.5 out of 100).
Screenshots of the desktop (at 1,280 × 800 and at a phone's width), the widget, the
wallboard, the review page and the flow graph are saved in SCREENSHOT_DIR.
Exits 0 when every check holds; otherwise prints what failed and exits 1.
"""

import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait
from websockets.sync.client import connect

ADDR, SHOTS, GRAPH = sys.argv[1], sys.argv[2], sys.argv[3]
BASE = f"http://{ADDR}"
SECONDS = 15


def fail(why):
    print(f"FAIL: {why}", flush=True)
    sys.exit(1)


def check(condition, why):
    if not condition:
        fail(why)


def browser(width, height):
    options = Options()
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--autoplay-policy=no-user-gesture-required"]:
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait(driver, condition, what):
    try:
        return WebDriverWait(driver, SECONDS).until(condition)
    except Exception:
        fail(f"timed out waiting for {what() if callable(what) else what}")


def text_in(selector, text):
    return EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text)


def survey_button(driver, label):
    """The widget's button for a survey's answer, once the question has drawn it."""
    xpath = f"(//div[contains(@class,'sb-opts')]/button[.='{label}'])[last()]"
    return wait(driver, EC.element_to_be_clickable((By.XPATH, xpath)), f"the survey's {label} button")


def earlier_contact():
    """Raj's first chat, answered and wrapped up by Ann over the protocol."""
    def recv(ws, kind, **match):
        while True:
            m = json.loads(ws.recv(timeout=SECONDS))
            if m.get("type") == kind and all(m.get(k) == v for k, v in match.items()):
                return m

    ann = connect(f"ws://{ADDR}/agent/ws", open_timeout=SECONDS)
    ann.send(json.dumps({"type": "login", "agent": "ann", "password": "demo"}))
    recv(ann, "welcome")
    ann.send(json.dumps({"type": "presence", "presence": "available", "ref": "p"}))
    recv(ann, "ok", ref="p")
    raj = connect(f"ws://{ADDR}/chat/ws", open_timeout=SECONDS)
    raj.send(json.dumps({"type": "hello", "name": "Raj", "email": "raj@example.org"}))
    contact = recv(raj, "conversation")["contact"]
    offer = recv(ann, "offer")
    ann.send(json.dumps({"type": "accept", "offer": offer["offer"], "ref": "a"}))
    recv(ann, "ok", ref="a")
    ann.send(json.dumps({"type": "message", "contact": contact, "id": "e1", "text": "Your router is on its way."}))
    recv(raj, "message", text="Your router is on its way.")
    ann.send(json.dumps({"type": "finish", "contact": contact, "ref": "f"}))
    recv(ann, "ok", ref="f")
    ann.send(json.dumps({"type": "outcome", "contact": contact, "outcome": "replacement_sent",
                         "note": "Sent a new router", "ref": "o"}))
    recv(ann, "ok", ref="o")
    raj.close()
    ann.close()
    return contact


def main():
    earlier = earlier_contact()

    agent = browser(1280, 800)
    customer = browser(1280, 800)
    manager = browser(1280, 800)
    try:
        # Mia, a manager, watches the wallboard: the earlier chat is counted already.
        manager.get(f"{BASE}/wallboard")
        wait(manager, EC.visibility_of_element_located((By.NAME, "agent")), "the wallboard's log-in")
        manager.find_element(By.NAME, "agent").send_keys("mia")
        manager.find_element(By.NAME, "password").send_keys("demo")
        manager.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
        vip = "#queues tr[data-queue=vip][data-channel=chat] td[data-key=offered]"
        wait(manager, text_in(vip, "1"), "the vip queue's chat to show one offered")

        # Ann logs in to the desktop and goes available.
        agent.get(f"{BASE}/desktop")
        agent.find_element(By.NAME, "agent").send_keys("ann")
        agent.find_element(By.NAME, "password").send_keys("demo")
        agent.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
        wait(agent, text_in("#me", "Ann"), "the desktop to say who is logged in")
        Select(agent.find_element(By.ID, "presence")).select_by_value("available")

        # Raj opens the widget on the demo page and starts a chat.
        customer.get(f"{BASE}/demo")
        customer.find_element(By.CSS_SELECTOR, ".sb-open").click()
        customer.find_element(By.NAME, "name").send_keys("Raj")
        customer.find_element(By.NAME, "email").send_keys("raj@example.org")
        customer.find_element(By.CSS_SELECTOR, ".sb-pre button[type=submit]").click()
        wait(customer, text_in(".sb-log", "Welcome back, Raj Kumar."), "the flow's greeting in the widget")

        # The offer rings at Ann (the title flashes); she accepts.
        offer = wait(agent, EC.element_to_be_clickable((By.CSS_SELECTOR, ".offer .accept")), "the offer to ring")
        check("chat from raj@example.org" in agent.find_element(By.CSS_SELECTOR, ".offer").text,
              "the offer says the channel and who")
        wait(agent, lambda d: "ringing" in d.title, "the title to flash")
        offer.click()
        panel = wait(agent, EC.visibility_of_element_located((By.CSS_SELECTOR, ".contact")), "the contact to open")
        wait(agent, text_in(".contact .record", "Raj Kumar"), "the record the flow looked up")
        check("platinum" in panel.find_element(By.CSS_SELECTOR, ".record").text, "the record shows the tier")
        history = panel.find_element(By.CSS_SELECTOR, ".past")
        check("replacement_sent" in history.text, f"the earlier contact and its outcome: {history.text}")
        history.find_element(By.TAG_NAME, "summary").click()
        check("Sent a new router" in history.text and "Your router is on its way." in history.text,
              f"the earlier contact's note and transcript: {history.text}")
        check(len(panel.find_elements(By.CSS_SELECTOR, ".past-contact")) == 1, "exactly one earlier contact")

        # The script: its say line, a choice as buttons, an ask that checks its type.
        Select(panel.find_element(By.NAME, "script")).select_by_value("billing_call")
        panel.find_element(By.CSS_SELECTOR, ".script-open button").click()
        wait(agent, text_in(".contact .steps", "thanks for holding"), "the script's first line")
        choice = wait(agent, EC.element_to_be_clickable((By.XPATH, "//div[@class='choices']/button[.='A wrong amount']")),
                      "the choice's buttons")
        choice.click()
        answer = wait(agent, EC.element_to_be_clickable((By.CSS_SELECTOR, ".contact .ask input")), "the ask's input")
        answer.send_keys("thirty quid")
        panel.find_element(By.CSS_SELECTOR, ".ask button").click()
        wait(agent, text_in(".contact .step-error", "an amount of money"), "the error beside the input")
        answer.clear()
        answer.send_keys("£30")
        panel.find_element(By.CSS_SELECTOR, ".ask button").click()
        wait(agent, text_in(".contact .steps", "removed that charge"), "the script's next line")
        current = panel.find_element(By.CSS_SELECTOR, ".steps li[aria-current]")
        check("removed that charge" in current.text, "the step the agent is on is marked")

        # Ann picks a suggested reply (the vip queue's, filled in with Raj's record and her
        # name, and the one for every queue; not billing's), edits it and sends it.
        suggestions = panel.find_element(By.CSS_SELECTOR, ".composer select.suggestions")
        label = panel.find_element(By.CSS_SELECTOR, ".suggestions-label")
        check(label.is_displayed() and label.text.startswith("Suggested replies"), "the suggestions are shown, labelled")
        names = [o.text for o in Select(suggestions).options]
        check(any(n.startswith("vip welcome") for n in names) and any(n.startswith("thanks") for n in names)
              and not any("billing" in n for n in names), f"the replies for Raj's queue: {names}")
        suggestions.send_keys(Keys.ARROW_DOWN)  # from the keyboard: the first suggestion
        box = panel.find_element(By.NAME, "text")
        suggested = "Hello Raj Kumar, this is Ann Agent from Acme."
        wait(agent, lambda d: box.get_attribute("value") == suggested, f"the suggestion in the message box, not {box.get_attribute('value')!r}")
        box.send_keys(Keys.END, " Done: the second charge is gone.")
        sent = suggested + " Done: the second charge is gone."
        panel.find_element(By.CSS_SELECTOR, ".composer button").click()
        wait(customer, text_in(".sb-log", sent), "Ann's edited reply in the widget")
        wait(agent, text_in(".contact .transcript", sent), "it in Ann's transcript")
        wait(agent, lambda d: box.get_attribute("value") == "", "the message box to empty once sent")
        customer.save_screenshot(os.path.join(SHOTS, "widget.png"))
        agent.save_screenshot(os.path.join(SHOTS, "desktop.png"))
        agent.set_window_size(390, 844)
        agent.save_screenshot(os.path.join(SHOTS, "desktop-phone.png"))
        agent.set_window_size(1280, 800)

        # Wrap-up with an outcome and a note; the survey then asks Raj.
        panel.find_element(By.NAME, "outcome").send_keys("resolved")
        panel.find_element(By.NAME, "note").send_keys("Refunded the duplicate")
        panel.find_element(By.CSS_SELECTOR, ".outcome-form button").click()
        wait(agent, text_in(".contact .wrap-status", "Wrapped up: resolved."), "the wrap-up to be taken")
        wait(customer, text_in(".sb-log", "Was your problem solved today?"), "the survey in the widget")
        survey_button(customer, "yes").click()
        wait(customer, text_in(".sb-log", "from 1 to 5"), "the survey's second question")
        survey_button(customer, "5").click()

        # The wallboard has moved: two offered and answered today, and the funnel counts
        # both of Raj's chats through the vip waypoint.
        wait(manager, text_in(vip, "2"), "the vip queue to show two offered")
        wait(manager, text_in("#queues tr[data-queue=vip][data-channel=chat] td[data-key=answered]", "2"),
             "two answered")
        wait(manager, text_in(".funnel[data-flow=inbound] li[data-waypoint=vip] [data-key=through]", "2"),
             "the funnel to count two through vip")
        manager.save_screenshot(os.path.join(SHOTS, "wallboard.png"))
        # The same figures as a report, from the page.
        manager.find_element(By.CSS_SELECTOR, "#report-form button[type=submit]").click()
        wait(manager, text_in("#report tbody td[data-key=offered]", "2"), "the report to count both chats")

        # Mia reviews the chat: it is listed among the ended contacts (beside Raj's earlier
        # one), with its agent and outcome; she opens it, reads the transcript and Ann's
        # script path, and scores it: greeted (10) yes, resolved (30) partly = 62.5.
        manager.get(f"{BASE}/review")
        rows = "#contacts tbody tr"
        wait(manager, lambda d: len([r for r in d.find_elements(By.CSS_SELECTOR, rows) if "resolved" in r.text
                                     and f"Open contact {earlier}" not in r.text]) == 1,
             "Raj's chat among the ended contacts, wrapped up as resolved")
        row = [r for r in manager.find_elements(By.CSS_SELECTOR, rows)
               if "resolved" in r.text and f"Open contact {earlier}" not in r.text][0]
        check("ann" in row.text and "chat" in row.text and "raj@example.org" in row.text,
              f"the row names the agent, channel and customer: {row.text}")
        row.find_element(By.TAG_NAME, "button").click()
        wait(manager, text_in("#transcript", sent), "the transcript with Ann's reply")
        steps = [li.text for li in manager.find_elements(By.CSS_SELECTOR, "#path li")]
        want = ["script: What is the call about?", "answer: A wrong amount", "script: How much is in dispute?",
                "answer: thirty quid", "script: How much is in dispute?", "answer: £30",
                "script: I've removed that charge for you."]
        check(steps[1:] == want, f"the script path, each answer after the line that asked: {steps}")
        check("Refunded the duplicate" in manager.find_element(By.ID, "facts").text, "the wrap-up note")
        Select(manager.find_element(By.ID, "scorecard")).select_by_value("chat_quality")
        manager.find_element(By.CSS_SELECTOR, "input[name=q_greeted][value='1']").click()
        manager.find_element(By.CSS_SELECTOR, "input[name=q_resolved][value='0.5']").click()
        manager.find_element(By.NAME, "note").send_keys("Friendly; should have checked the next bill")
        manager.find_element(By.CSS_SELECTOR, "#score-form button[type=submit]").click()
        result = manager.find_element(By.ID, "score-result")
        form_state = "var f = document.querySelector('#score-form'); return [f.checkValidity(), " \
            "Array.from(f.querySelectorAll('input:checked')).map(function (i) { return i.name + '=' + i.value; })]"
        wait(manager, text_in("#score-result", "Scored 62.5 / 100."),
             lambda: f"the weighted score, not {result.text!r} (form {manager.execute_script(form_state)}, "
                     f"log {manager.get_log('browser')})")
        wait(manager, text_in("#reviews", "mia · chat_quality · 62.5 / 100"), "the review among the contact's reviews")
        manager.save_screenshot(os.path.join(SHOTS, "review.png"))

        # The flow graph, as `switchboard graph` draws it, in the same browser.
        agent.get("file://" + GRAPH)
        agent.save_screenshot(os.path.join(SHOTS, "graph.png"))
    finally:
        agent.quit()
        customer.quit()
        manager.quit()
    print(json.dumps({"earlier_contact": earlier, "screenshots": sorted(os.listdir(SHOTS))}))
    print("OK")


if __name__ == "__main__":
    main()
