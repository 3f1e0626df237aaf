// The Switchboard chat widget: one <script src=".../widget.js" data-entry="web"> tag on
// any page. Plain JavaScript, no build step. It keeps the conversation's token and the
// last message id in localStorage, so a reload or a dropped connection resumes where it
// was: the server sends what came after the cursor, and messages are drawn once by id.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src, location.href);
  var entry = script.getAttribute("data-entry") || "web";
  var store = "switchboard:" + base.host + ":" + entry;
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(store) || "{}"); } catch (e) { saved = {}; }
  var seen = {};
  var socket = null, retry = 500, typingTimer = null, pending = {};

  function save() { try { localStorage.setItem(store, JSON.stringify(saved)); } catch (e) {} }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  var css = el("style", {}, [
    ".sb-open{position:fixed;right:1rem;bottom:1rem;z-index:2147483000;border:0;border-radius:2rem;padding:.8rem 1.2rem;background:#2457d6;color:#fff;font:600 1rem system-ui;cursor:pointer}",
    ".sb-box{position:fixed;right:1rem;bottom:4.5rem;z-index:2147483000;width:min(22rem,calc(100vw - 2rem));height:min(32rem,calc(100vh - 6rem));display:none;flex-direction:column;background:#fff;border:1px solid #c9d0dc;border-radius:.6rem;box-shadow:0 6px 24px rgba(0,0,0,.15);font:15px/1.4 system-ui,sans-serif;color:#1d2330}",
    ".sb-box[data-open]{display:flex}",
    ".sb-head{padding:.6rem .8rem;background:#2457d6;color:#fff;border-radius:.6rem .6rem 0 0;font-weight:600}",
    ".sb-log{flex:1;overflow-y:auto;padding:.6rem;display:flex;flex-direction:column;gap:.4rem}",
    ".sb-msg{max-width:85%;padding:.4rem .6rem;border-radius:.6rem;white-space:pre-wrap;word-wrap:break-word}",
    ".sb-flow,.sb-agent{align-self:flex-start;background:#eef1f6}",
    ".sb-customer{align-self:flex-end;background:#2457d6;color:#fff}",
    ".sb-note{align-self:center;color:#5a6478;font-size:.85em}",
    ".sb-opts{display:flex;flex-wrap:wrap;gap:.3rem}",
    ".sb-opts button{border:1px solid #2457d6;background:#fff;color:#2457d6;border-radius:1rem;padding:.2rem .7rem;cursor:pointer;font:inherit}",
    ".sb-form{display:flex;gap:.3rem;padding:.5rem;border-top:1px solid #e1e5ec}",
    ".sb-form input{flex:1;min-width:0;padding:.4rem;border:1px solid #c9d0dc;border-radius:.3rem;font:inherit}",
    ".sb-form button{border:0;background:#2457d6;color:#fff;border-radius:.3rem;padding:.4rem .8rem;font:inherit;cursor:pointer}",
    ".sb-pre{padding:.6rem;display:flex;flex-direction:column;gap:.4rem}",
    ".sb-pre label{display:flex;flex-direction:column;font-size:.9em}",
    ".sb-pre input{padding:.4rem;border:1px solid #c9d0dc;border-radius:.3rem;font:inherit}",
    ".sb-typing{padding:0 .8rem;height:1.2rem;color:#5a6478;font-size:.85em}"
  ].join("\n"));
  document.head.appendChild(css);

  var open = el("button", { "class": "sb-open", "type": "button", "aria-expanded": "false", "aria-controls": "sb-box" }, "Chat with us");
  var box = el("section", { "class": "sb-box", "id": "sb-box", "role": "dialog", "aria-label": "Chat" });
  var head = el("div", { "class": "sb-head" }, "Chat");
  var log = el("div", { "class": "sb-log", "role": "log", "aria-live": "polite" });
  var typing = el("div", { "class": "sb-typing", "aria-live": "polite" });
  var form = el("form", { "class": "sb-form" });
  var input = el("input", { "type": "text", "name": "message", "aria-label": "Your message", "maxlength": "4000", "autocomplete": "off" });
  var sendButton = el("button", { "type": "submit" }, "Send");
  form.appendChild(input); form.appendChild(sendButton);

  var pre = el("form", { "class": "sb-pre" });
  var nameLabel = el("label", {}, "Your name");
  var nameInput = el("input", { "type": "text", "name": "name", "autocomplete": "name", "maxlength": "100" });
  nameLabel.appendChild(nameInput);
  var emailLabel = el("label", {}, "Email (optional)");
  var emailInput = el("input", { "type": "email", "name": "email", "autocomplete": "email" });
  emailLabel.appendChild(emailInput);
  var start = el("button", { "type": "submit" }, "Start chat");
  pre.appendChild(nameLabel); pre.appendChild(emailLabel); pre.appendChild(start);

  box.appendChild(head); box.appendChild(log); box.appendChild(typing);
  document.body.appendChild(open); document.body.appendChild(box);

  function showForm() {
    if (saved.token) { if (pre.parentNode) box.removeChild(pre); if (!form.parentNode) box.appendChild(form); }
    else if (!pre.parentNode) box.appendChild(pre);
  }

  open.addEventListener("click", function () {
    var isOpen = box.hasAttribute("data-open");
    if (isOpen) { box.removeAttribute("data-open"); open.setAttribute("aria-expanded", "false"); return; }
    box.setAttribute("data-open", ""); open.setAttribute("aria-expanded", "true");
    showForm();
    if (saved.token) connect(); else nameInput.focus();
  });

  pre.addEventListener("submit", function (ev) {
    ev.preventDefault();
    connect({ name: nameInput.value, email: emailInput.value });
  });

  function draw(m) {
    if (m.id != null) { if (seen[m.id]) return; seen[m.id] = true; if (!(saved.cursor >= m.id)) { saved.cursor = m.id; save(); } }
    if (m.type === "message") {
      if (m.from === "customer" && m.client && pending[m.client]) { delete pending[m.client]; }
      var who = m.from === "customer" ? "sb-customer" : (m.from === "agent" ? "sb-agent" : "sb-flow");
      var bubble = el("div", { "class": "sb-msg " + who }, m.text);
      log.appendChild(bubble);
      if (m.options && m.options.length) {
        var opts = el("div", { "class": "sb-opts", "role": "group", "aria-label": "Choices" });
        m.options.forEach(function (o) {
          var b = el("button", { "type": "button" }, o.label || o.key);
          b.addEventListener("click", function () { sendText(o.label || o.key); });
          opts.appendChild(b);
        });
        log.appendChild(opts);
      }
    } else if (m.type === "ended") {
      log.appendChild(el("div", { "class": "sb-msg sb-note" }, "The conversation has ended."));
      input.disabled = true; sendButton.disabled = true;
    } else if (m.type === "transfer") {
      log.appendChild(el("div", { "class": "sb-msg sb-note" }, "Transferring you…"));
    }
    log.scrollTop = log.scrollHeight;
  }

  function connect(pre) {
    if (socket && socket.readyState <= 1) return;
    var url = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/chat/ws";
    socket = new WebSocket(url);
    socket.onopen = function () {
      retry = 500;
      var hello = { type: "hello", entry: entry };
      if (saved.token) { hello.token = saved.token; hello.cursor = saved.cursor || 0; }
      else if (pre) { hello.name = pre.name; hello.email = pre.email; }
      socket.send(JSON.stringify(hello));
      for (var id in pending) socket.send(JSON.stringify({ type: "message", id: id, text: pending[id] }));
    };
    socket.onmessage = function (ev) {
      var m; try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === "conversation") { saved.token = m.token; save(); showForm(); input.focus(); }
      else if (m.type === "ack") { delete pending[m.id]; }
      else if (m.type === "typing") {
        typing.textContent = "The agent is typing…";
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typing.textContent = ""; }, m.expires_ms || 5000);
      } else if (m.type === "error") {
        if (m.status === 404 && !m.id) { saved = {}; save(); showForm(); }
        else log.appendChild(el("div", { "class": "sb-msg sb-note" }, m.message));
      } else draw(m);
    };
    socket.onclose = function () {
      if (!saved.token) return;
      setTimeout(function () { connect(); }, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  var lastTyping = 0;
  input.addEventListener("input", function () {
    var now = Date.now();
    if (socket && socket.readyState === 1 && now - lastTyping > 2000) { lastTyping = now; socket.send(JSON.stringify({ type: "typing" })); }
  });

  function sendText(text) {
    text = text.trim();
    if (!text) return;
    var id = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    pending[id] = text;
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "message", id: id, text: text }));
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    sendText(input.value);
    input.value = "";
  });

  if (saved.token && box.hasAttribute("data-open")) connect();
})();
