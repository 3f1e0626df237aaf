"""Offer latency: from the ACD's decision to the offer shown in the agent desktop, in real
Chromium (Debian's chromium and chromedriver, Selenium from PyPI). Run by the load
benchmark (`SWITCHBOARD_LOAD_ONLY=offer cargo bench -p switchboard-daemon --bench load`),
which starts the daemon on a project whose chats all queue for one agent.

    python offer_latency.py 127.0.0.1:8080 AGENT PASSWORD N

N + 6 customers chat (Python `websockets`, entry `queue`) and wait in the queue. The agent
logs in on `/desktop` and goes available; each offer rings, and is rejected with the
desktop's own button, which makes routing offer the next contact at once. The first offer
is not measured (it rang before the page was open, and came with the welcome); for each of
the next N:

- `at_ms`: the time of the decision, as the daemon sends it (the engine's time of the step
  that routed it: an offer's feed row is stamped with it);
- `python_ms`: when the same message reached a plain `websockets` client logged in as the
  same agent (the baseline: the daemon's share without the browser's);
- `socket_ms`: when the page's WebSocket delivered it (a listener added before the
  desktop's own, by a script Chromium runs before the page's);
- `dom_ms`: when the offer's element was added to the DOM (a MutationObserver);
- `frame_ms`: the next animation frame after that (when the browser can paint it).

All are the machine's wall clock in milliseconds (Date.now() in the page, time.time() in
Python). Prints one JSON object: {"offers": [{...}, ...]}.
"""

import json
import sys
import threading
import time
import warnings

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from websockets.sync.client import connect

# websockets 17 prefers `with connect(...)`; these sockets live across the whole run.
warnings.filterwarnings("ignore", category=DeprecationWarning)

ADDR, AGENT, PASSWORD, N = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
BASE = f"http://{ADDR}"
SECONDS = 30

# Runs in the page before its own scripts: times the offers' arrival and their element.
PROBE = """
window.__sb = { socket: {}, dom: {}, frame: {} };
(function () {
  var Native = window.WebSocket;
  function Probed(url, protocols) {
    var s = protocols === undefined ? new Native(url) : new Native(url, protocols);
    s.addEventListener("message", function (e) {
      var t = Date.now();
      if (e.data.indexOf('"offer"') < 0) return;
      try {
        var m = JSON.parse(e.data);
        if (m.type === "offer") window.__sb.socket[m.offer] = { t: t, at_ms: m.at_ms };
      } catch (err) {}
    });
    return s;
  }
  Probed.prototype = Native.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (k) { Probed[k] = Native[k]; });
  window.WebSocket = Probed;
  new MutationObserver(function (records) {
    var t = Date.now();
    records.forEach(function (r) {
      r.addedNodes.forEach(function (n) {
        if (n.nodeType !== 1 || !n.classList.contains("offer")) return;
        var id = n.getAttribute("data-offer");
        window.__sb.dom[id] = t;
        requestAnimationFrame(function () { window.__sb.frame[id] = Date.now(); });
      });
    });
  }).observe(document, { childList: true, subtree: true });
})();
"""


# Resolves with the id of an offer ringing that is not in arguments[0], once there is one.
WAIT_FOR_OFFER = """
var known = arguments[0], done = arguments[arguments.length - 1];
function fresh() {
  var ids = Array.from(document.querySelectorAll("#offers .offer")).map(function (li) { return li.getAttribute("data-offer"); });
  return ids.find(function (i) { return known.indexOf(i) < 0; });
}
var f = fresh();
if (f) { done(f); } else {
  var watch = new MutationObserver(function () { var f = fresh(); if (f) { watch.disconnect(); done(f); } });
  watch.observe(document.getElementById("offers"), { childList: true });
}
"""


def fail(why):
    print(f"FAIL: {why}", flush=True)
    sys.exit(1)


def recv(ws, kind, **match):
    while True:
        m = json.loads(ws.recv(timeout=SECONDS))
        if m.get("type") == kind and all(m.get(k) == v for k, v in match.items()):
            return m


def baseline(ws, seen, stop):
    """The plain client: when each offer message reaches it."""
    while not stop.is_set():
        try:
            raw = ws.recv(timeout=0.5)
        except TimeoutError:
            continue
        except Exception:
            return
        t = time.time() * 1000.0
        m = json.loads(raw)
        if m.get("type") == "offer":
            seen[m["offer"]] = {"t": t, "at_ms": m.get("at_ms")}


def main():
    plain = connect(f"ws://{ADDR}/agent/ws", open_timeout=SECONDS)
    plain.send(json.dumps({"type": "login", "agent": AGENT, "password": PASSWORD}))
    recv(plain, "welcome")
    seen, stop = {}, threading.Event()
    listener = threading.Thread(target=baseline, args=(plain, seen, stop), daemon=True)
    listener.start()

    customers = []
    for i in range(N + 6):
        c = connect(f"ws://{ADDR}/chat/ws", open_timeout=SECONDS)
        c.send(json.dumps({"type": "hello", "name": f"caller{i}", "entry": "queue"}))
        recv(c, "conversation")
        customers.append(c)

    options = Options()
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,800", "--autoplay-policy=no-user-gesture-required"]:
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
        driver.get(f"{BASE}/desktop")
        driver.find_element(By.NAME, "agent").send_keys(AGENT)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
        WebDriverWait(driver, SECONDS).until(lambda d: d.find_element(By.ID, "me").text)
        driver.set_script_timeout(SECONDS)
        Select(driver.find_element(By.ID, "presence")).select_by_value("available")

        done = []
        for _ in range(N + 1):
            # The next offer to ring, as soon as its element is there.
            try:
                offer = driver.execute_async_script(WAIT_FOR_OFFER, done)
            except Exception:
                fail(f"no offer rang after {len(done)}")
            done.append(offer)
            driver.find_element(By.CSS_SELECTOR, f"#offers .offer[data-offer='{offer}'] .reject").click()
        time.sleep(0.5)
        probe = driver.execute_script("return window.__sb")
    finally:
        driver.quit()
    stop.set()
    listener.join()
    plain.close()
    for c in customers:
        c.close()

    offers = []
    for offer in done[1:]:
        s = probe["socket"].get(offer)
        p = seen.get(int(offer))
        if not s or not p or offer not in probe["dom"]:
            fail(f"offer {offer} was not seen everywhere: socket {s}, python {p}")
        offers.append({"offer": int(offer), "at_ms": s["at_ms"], "python_ms": p["t"], "socket_ms": s["t"],
                       "dom_ms": probe["dom"][offer], "frame_ms": probe["frame"].get(offer)})
    print(json.dumps({"offers": offers}))


if __name__ == "__main__":
    main()
