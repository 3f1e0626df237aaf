// The agent desktop: plain JavaScript on the agents' WebSocket protocol (README), no build
// step. One socket; offers ring (sound and title) with accept or reject; each connected
// contact has a tab with its conversation, the customer's record and earlier contacts,
// the script step by step, and wrap-up. A reload logs back in with the session's token
// and resumes the feed from its cursor.
(function () {
  "use strict";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var socket = null, token = null, me = null, cursor = null, refs = 0, waiting = {};
  var contacts = {}, offers = {}, current = null, ringTimer = null, baseTitle = document.title;
  var saved = {};
  try { saved = JSON.parse(sessionStorage.getItem("switchboard:agent") || "{}"); } catch (e) { saved = {}; }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function save() {
    try { sessionStorage.setItem("switchboard:agent", JSON.stringify({ token: token, cursor: cursor })); } catch (e) {}
  }
  function request(message) {
    refs += 1;
    message.ref = "r" + refs;
    return new Promise(function (resolve, reject) {
      waiting[message.ref] = { resolve: resolve, reject: reject };
      socket.send(JSON.stringify(message));
    });
  }

  // --- the connection ---------------------------------------------------------------
  function connect(login) {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/agent/ws";
    socket = new WebSocket(url);
    socket.onopen = function () {
      if (cursor != null) login.cursor = cursor;
      socket.send(JSON.stringify(login));
    };
    socket.onmessage = function (event) {
      var m;
      try { m = JSON.parse(event.data); } catch (e) { return; }
      if (typeof m.id === "number" && (cursor == null || m.id > cursor)) { cursor = m.id; save(); }
      handle(m);
    };
    socket.onclose = function () {
      if (token) setTimeout(function () { connect({ type: "login", token: token }); }, 1000);
    };
  }

  function handle(m) {
    if (m.ref && waiting[m.ref]) {
      var w = waiting[m.ref];
      delete waiting[m.ref];
      if (m.type === "error") w.reject(m); else w.resolve(m.result || {});
      return;
    }
    switch (m.type) {
      case "welcome": return welcome(m);
      case "error":
        if (!me) { $("#login-error").textContent = m.message; token = null; save(); socket.close(); }
        return;
      case "offer": return ring(m);
      case "offer_gone": return unring(m.offer);
      case "contact": return openContact(m);
      case "message": return contactMessage(m);
      case "typing": return typing(m);
      case "script": case "note": return scriptLine(m);
      case "wrap_note": return;
      case "payment": return payment(m);
    }
  }

  function welcome(m) {
    me = m.agent;
    token = m.token;
    save();
    $("#login").hidden = true;
    $("#work").hidden = false;
    $(".presence").hidden = false;
    $("#logout").hidden = false;
    $("#me").textContent = me.name + " (" + me.id + ")";
    (m.offers || []).forEach(function (o) { ring(o); });
  }

  // --- offers -----------------------------------------------------------------------
  function beep() {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.25);
    } catch (e) {}
  }
  function titleFlash() {
    var n = Object.keys(offers).length;
    clearInterval(ringTimer);
    document.title = baseTitle;
    if (!n) return;
    var on = false;
    ringTimer = setInterval(function () {
      on = !on;
      document.title = on ? "● " + n + " ringing · " + baseTitle : baseTitle;
    }, 700);
  }
  function ring(o) {
    if (offers[o.offer]) return;
    var li = el("li", { "class": "offer", "data-offer": o.offer });
    li.appendChild(el("strong", {}, (o.channel || "contact") + " from " + (o.from || "someone")));
    var clock = el("span", { "class": "countdown", "aria-label": "ringing for" }, "0 s");
    li.appendChild(clock);
    var accept = el("button", { type: "button", "class": "accept" }, "Accept");
    var reject = el("button", { type: "button", "class": "reject" }, "Reject");
    accept.onclick = function () {
      request({ type: "accept", offer: o.offer }).then(function () { unring(o.offer); }, function (e) { li.title = e.message; unring(o.offer); });
    };
    reject.onclick = function () { request({ type: "reject", offer: o.offer }).then(function () { unring(o.offer); }, function () { unring(o.offer); }); };
    li.appendChild(accept);
    li.appendChild(reject);
    var started = Date.now();
    var tick = setInterval(function () { clock.textContent = Math.round((Date.now() - started) / 1000) + " s"; }, 1000);
    offers[o.offer] = { li: li, tick: tick };
    $("#offers").appendChild(li);
    $("#no-offers").hidden = true;
    beep();
    titleFlash();
    accept.focus();
  }
  function unring(offer) {
    var o = offers[offer];
    if (!o) return;
    clearInterval(o.tick);
    o.li.remove();
    delete offers[offer];
    $("#no-offers").hidden = Object.keys(offers).length > 0;
    titleFlash();
  }

  // --- contacts -------------------------------------------------------------------
  function openContact(c) {
    var view = contacts[c.contact];
    if (!view) {
      var panel = $("#contact-template").content.firstElementChild.cloneNode(true);
      panel.id = "contact-" + c.contact;
      panel.setAttribute("data-contact", c.contact);
      var tab = el("button", { role: "tab", type: "button", id: "tab-" + c.contact, "aria-controls": panel.id }, (c.channel || "") + " · " + (c.from || c.contact));
      panel.setAttribute("aria-labelledby", tab.id);
      tab.onclick = function () { show(c.contact); };
      $("#tabs").appendChild(tab);
      $("#contacts").appendChild(panel);
      view = contacts[c.contact] = { panel: panel, tab: tab, seen: {}, steps: [], session: null, lastAsk: null };
      wire(c.contact, view);
    }
    view.info = c;
    $(".title", view.panel).textContent = (c.channel || "contact") + " from " + (c.from || "") + (c.queue ? " · queue " + c.queue : "");
    $(".transcript", view.panel).textContent = "";
    view.seen = {};
    (c.transcript || []).forEach(function (m) { line(view, m); });
    record(view, c.record);
    history(view, c.history || []);
    var scripts = $(".script-open select", view.panel);
    scripts.textContent = "";
    // The script a strategy's call names first, then its queue's.
    var rank = function (s) { return (s.name === c.script) * 2 + (s.queue === c.queue); };
    (c.scripts || []).slice().sort(function (a, b) { return rank(b) - rank(a); }).forEach(function (s) {
      scripts.appendChild(el("option", { value: s.name }, s.name + (s.queue ? " (" + s.queue + ")" : "")));
    });
    $(".script-open", view.panel).hidden = !(c.scripts || []).length;
    suggestions(view, c.replies || []);
    var queues = $(".transfer-form select", view.panel);
    queues.textContent = "";
    (c.queues || []).forEach(function (q) { queues.appendChild(el("option", { value: q }, q)); });
    $("#no-contacts").hidden = true;
    show(c.contact);
  }

  // The project's `reply` templates for this contact, rendered by the daemon: picking one
  // puts its text in the message box, for the agent to edit and send.
  function suggestions(view, replies) {
    var select = $(".suggestions", view.panel);
    view.replies = replies;
    select.textContent = "";
    select.appendChild(el("option", { value: "" }, "Pick a suggestion…"));
    replies.forEach(function (r, i) {
      var preview = r.text.length > 60 ? r.text.slice(0, 59) + "…" : r.text;
      select.appendChild(el("option", { value: String(i), title: r.text }, r.name.replace(/_/g, " ") + " — " + preview));
    });
    $(".suggestions-label", view.panel).hidden = !replies.length;
  }

  function show(contact) {
    current = contact;
    Object.keys(contacts).forEach(function (k) {
      var v = contacts[k], on = String(k) === String(contact);
      v.panel.hidden = !on;
      v.tab.setAttribute("aria-selected", on ? "true" : "false");
    });
  }

  function line(view, m) {
    if (m.id != null && view.seen[m.id]) return;
    if (m.id != null) view.seen[m.id] = true;
    if (m.text == null) return;
    var who = m.from === "agent" ? (m.name || "Agent") : m.from === "customer" ? "Customer" : "Flow";
    var li = el("li", { "class": "line from-" + (m.from || "flow") });
    li.appendChild(el("span", { "class": "who" }, who));
    li.appendChild(el("span", { "class": "text" }, m.text));
    var log = $(".transcript", view.panel);
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function record(view, r) {
    var dl = $(".record", view.panel);
    dl.textContent = "";
    $(".no-record", view.panel).hidden = !!r;
    if (!r) return;
    Object.keys(r).forEach(function (k) {
      dl.appendChild(el("dt", {}, k));
      var v = r[k];
      dl.appendChild(el("dd", {}, v == null ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v)));
    });
  }

  function history(view, past) {
    var ol = $(".past", view.panel);
    ol.textContent = "";
    $(".no-history", view.panel).hidden = past.length > 0;
    past.forEach(function (p) {
      var li = el("li", { "class": "past-contact" });
      var details = el("details");
      var when = p.started_ms ? new Date(p.started_ms).toLocaleString() : "";
      var summary = el("summary", {}, p.channel + " · " + when + (p.outcome ? " · " + p.outcome : "") + (p.survey && p.survey.length ? " · survey " + p.survey.join(", ") : ""));
      details.appendChild(summary);
      var facts = el("dl");
      [["Waypoints", (p.waypoints || []).join(" → ") || "—"], ["Agent", p.agent || "—"], ["Outcome", p.outcome || "—"],
       ["Survey", (p.survey || []).join(", ") || "—"], ["Note", p.note || "—"]].forEach(function (f) {
        facts.appendChild(el("dt", {}, f[0]));
        facts.appendChild(el("dd", {}, f[1]));
      });
      details.appendChild(facts);
      var t = el("ol", { "class": "past-transcript" });
      (p.transcript || []).forEach(function (l) { t.appendChild(el("li", { "class": "from-" + l.from }, l.from + ": " + l.text)); });
      details.appendChild(t);
      li.appendChild(details);
      ol.appendChild(li);
    });
  }

  // `collect payment`: a status and the amount, never the card.
  function payment(m) {
    var view = contacts[m.contact];
    if (!view) return;
    var p = $(".payment", view.panel);
    var words = { waiting: "waiting for the customer to pay", captured: "captured", declined: "declined" };
    p.hidden = false;
    p.setAttribute("data-status", m.status);
    p.textContent = "Payment of " + m.amount + ": " + (words[m.status] || m.status) + ".";
  }

  function contactMessage(m) {
    var view = contacts[m.contact];
    if (view) line(view, m);
  }

  function typing(m) {
    var view = contacts[m.contact];
    if (!view) return;
    var p = $(".typing", view.panel);
    p.textContent = "The customer is typing…";
    clearTimeout(view.typingTimer);
    view.typingTimer = setTimeout(function () { p.textContent = ""; }, m.expires_ms || 5000);
  }

  // --- the script -------------------------------------------------------------------
  function scriptLine(m) {
    var view = contacts[m.contact];
    if (!view) return;
    if (m.id != null && view.seen["s" + m.id]) return;
    if (m.id != null) view.seen["s" + m.id] = true;
    view.session = m.session;
    var steps = $(".steps", view.panel);
    var now = $(".step-now", view.panel);
    var asksAgain = view.lastAsk && view.lastAsk.text === m.text && (m.ask || m.options);
    if (asksAgain) {
      var err = $(".step-error", now);
      if (err) err.textContent = "That is not " + describe(view.lastAsk) + ". Try again.";
      return;
    }
    Array.prototype.forEach.call(steps.querySelectorAll("li[aria-current]"), function (li) { li.removeAttribute("aria-current"); });
    var li = el("li", { "class": m.type === "note" ? "step note" : "step say", "aria-current": "step" }, m.text);
    steps.appendChild(li);
    now.textContent = "";
    view.lastAsk = null;
    if (m.options && m.options.length) {
      view.lastAsk = m;
      var group = el("div", { role: "group", "aria-label": m.text, "class": "choices" });
      m.options.forEach(function (o) {
        var b = el("button", { type: "button" }, o.label || o.key);
        b.onclick = function () { answer(view, m.session, o.label || o.key, li); };
        group.appendChild(b);
      });
      now.appendChild(group);
      now.appendChild(el("p", { "class": "step-error error", role: "alert" }));
    } else if (m.ask) {
      view.lastAsk = m;
      var form = el("form", { "class": "ask" });
      var label = el("label", {}, "Answer (" + describe(m) + ")");
      var input = el("input", { name: "answer", required: "required", autocomplete: "off" });
      label.appendChild(input);
      form.appendChild(label);
      form.appendChild(el("button", { type: "submit" }, "Answer"));
      form.appendChild(el("p", { "class": "step-error error", role: "alert" }));
      form.onsubmit = function (e) { e.preventDefault(); answer(view, m.session, input.value, li); };
      now.appendChild(form);
      input.focus();
    }
  }
  function describe(m) {
    switch (m.ask) {
      case "money": return "an amount of money";
      case "yesno": return "yes or no";
      case "range": return "a number from " + m.min + " to " + m.max;
      case "digits": return m.digits + " digits";
      case "number": return "a number";
      case "date": return "a date";
      case "time": return "a time";
      case "phone": return "a phone number";
      case "email": return "an email address";
      case undefined: case null: return "one of the choices";
      default: return "a " + m.ask;
    }
  }
  function answer(view, session, text, li) {
    li.appendChild(el("span", { "class": "answered" }, " → " + text));
    request({ type: "script_reply", session: session, text: text }).catch(function (e) {
      var err = $(".step-error", view.panel);
      if (err) err.textContent = e.message;
    });
  }

  // --- what the agent does ------------------------------------------------------------
  function wire(contact, view) {
    var composer = $(".composer", view.panel);
    var sent = 0;
    composer.onsubmit = function (e) {
      e.preventDefault();
      var text = composer.elements.text.value.trim();
      if (!text) return;
      sent += 1;
      request({ type: "message", contact: contact, id: "d" + Date.now().toString(36) + sent, text: text }).then(function () {
        composer.elements.text.value = "";
        $(".suggestions", view.panel).value = "";
      }, function (err) { $(".wrap-status", view.panel).textContent = err.message; });
    };
    // A suggestion fills the message box (keyboard arrows on the list preview each one);
    // the agent edits it there and sends it.
    $(".suggestions", view.panel).onchange = function (e) {
      var r = (view.replies || [])[Number(e.target.value)];
      if (e.target.value === "" || !r) return;
      composer.elements.text.value = r.text;
    };
    composer.elements.text.addEventListener("input", function () { request({ type: "typing", contact: contact }).catch(function () {}); });
    $(".script-open", view.panel).onsubmit = function (e) {
      e.preventDefault();
      var name = e.target.elements.script.value;
      $(".steps", view.panel).textContent = "";
      request({ type: "script", contact: contact, script: name }).catch(function (err) { $(".wrap-status", view.panel).textContent = err.message; });
    };
    $(".outcome-form", view.panel).onsubmit = function (e) {
      e.preventDefault();
      var f = e.target.elements, status = $(".wrap-status", view.panel);
      request({ type: "finish", contact: contact }).catch(function () {}).then(function () {
        return request({ type: "outcome", contact: contact, outcome: f.outcome.value.trim(), note: f.note.value });
      }).then(function () {
        status.textContent = "Wrapped up: " + f.outcome.value.trim() + ".";
        view.tab.textContent += " ✓";
      }, function (err) { status.textContent = err.message; });
    };
    $(".transfer-form", view.panel).onsubmit = function (e) {
      e.preventDefault();
      var q = e.target.elements.queue.value, status = $(".wrap-status", view.panel);
      request({ type: "transfer", contact: contact, queue: q }).then(function () {
        status.textContent = "Transferred to " + q + ".";
      }, function (err) { status.textContent = err.message; });
    };
  }

  $("#login").onsubmit = function (e) {
    e.preventDefault();
    $("#login-error").textContent = "";
    var f = e.target.elements;
    cursor = null;
    connect({ type: "login", agent: f.agent.value.trim(), password: f.password.value });
  };
  $("#presence").onchange = function (e) {
    request({ type: "presence", presence: e.target.value }).catch(function (err) { $("#me").textContent = err.message; });
  };
  $("#logout").onclick = function () {
    token = null;
    cursor = null;
    save();
    if (socket) socket.close();
    location.reload();
  };
  if (saved.token) {
    token = saved.token;
    cursor = saved.cursor == null ? null : saved.cursor;
    connect({ type: "login", token: token });
  }
})();
