// The quality review page: plain JavaScript, no build step. It logs a reviewer in (POST
// /login sets a session cookie), lists ended contacts (/review/contacts), opens one (its
// transcript, the agent's script path and the project's scorecards) and posts a review;
// the daemon checks it and answers with the weighted score.
(function () {
  "use strict";
  var $ = function (sel) { return document.querySelector(sel); };
  var cards = [], open = null;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function when(ms) { return ms ? new Date(ms).toLocaleString() : "–"; }
  function json(r) { return r.json().then(function (j) { return [r.status, j]; }); }

  // The list's filter and where its next page starts.
  var filter = "", next = null;

  function list(more) {
    var url = "/review/contacts?limit=50" + filter + (more && next != null ? "&before=" + next : "");
    return fetch(url).then(json).then(function (a) {
      if (a[0] === 400) { $("#filter-error").textContent = a[1].error; return; }
      if (a[0] !== 200) { showLogin(a[0] === 403 ? "You are not a reviewer." : ""); return; }
      $("#login").hidden = true;
      $("#review").hidden = false;
      $("#filter-error").textContent = "";
      var body = $("#contacts tbody");
      if (!more) body.textContent = "";
      a[1].contacts.forEach(function (c) {
        var tr = el("tr");
        var td = el("td");
        var b = el("button", { type: "button", "data-contact": String(c.contact) }, "Open contact " + c.contact);
        b.onclick = function () { show(c.contact); };
        td.appendChild(b);
        tr.appendChild(td);
        [c.channel, c.from, c.agent || "–", c.outcome || "–", when(c.ended_ms), String(c.reviews)].forEach(function (t) {
          tr.appendChild(el("td", {}, t));
        });
        body.appendChild(tr);
      });
      if (!body.children.length) body.appendChild(el("tr", {}, "")).appendChild(el("td", { colspan: "7" }, "No ended contacts."));
      next = a[1].next;
      $("#older").hidden = next == null;
    });
  }
  $("#older").onclick = function () { list(true); };
  $("#filter").onsubmit = function (e) {
    e.preventDefault();
    var f = e.target.elements, tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    filter = "";
    if (f.from.value) filter += "&from=" + encodeURIComponent(f.from.value);
    if (f.to.value) filter += "&to=" + encodeURIComponent(f.to.value);
    if (filter && tz) filter += "&tz=" + encodeURIComponent(tz);
    list(false);
  };

  function questions() {
    var box = $("#questions");
    box.textContent = "";
    var card = cards.filter(function (c) { return c.name === $("#scorecard").value; })[0];
    (card ? card.questions : []).forEach(function (q) {
      var fs = el("fieldset");
      fs.appendChild(el("legend", {}, q.text + " (weight " + q.weight + ")"));
      [["1", "Yes"], ["0.5", "Partly"], ["0", "No"]].forEach(function (o, i) {
        var label = el("label");
        var input = el("input", { type: "radio", name: "q_" + q.name, value: o[0] });
        if (i === 0) input.required = true;
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + o[1]));
        fs.appendChild(label);
      });
      box.appendChild(fs);
    });
  }
  $("#scorecard").onchange = questions;

  function show(id) {
    return fetch("/review/contacts/" + id).then(json).then(function (a) {
      if (a[0] !== 200) { $("#score-result").textContent = a[1].error || "Cannot open it."; return; }
      var d = a[1], c = d.contact;
      open = id;
      cards = d.scorecards;
      $("#contact").hidden = false;
      $("#contact-title").textContent = "Contact " + id;
      var facts = $("#facts");
      facts.textContent = "";
      [["Channel", c.channel], ["From", c.from], ["Flow", c.flow], ["Agent", c.agent || "–"],
       ["Outcome", c.outcome || "–"], ["Note", c.note || "–"], ["Started", when(c.started_ms)], ["Ended", when(c.ended_ms)]]
        .forEach(function (f) { facts.appendChild(el("dt", {}, f[0])); facts.appendChild(el("dd", {}, f[1])); });
      var t = $("#transcript");
      t.textContent = "";
      c.transcript.forEach(function (l) { t.appendChild(el("li", {}, l.from + ": " + l.text)); });
      var p = $("#path");
      p.textContent = "";
      d.script_path.forEach(function (s) { p.appendChild(el("li", { "class": s.kind }, s.kind + ": " + s.text)); });
      if (!d.script_path.length) p.appendChild(el("li", {}, "No script was run."));
      var r = $("#reviews");
      r.textContent = "";
      d.reviews.forEach(function (v) { r.appendChild(el("li", {}, v.reviewer + " · " + v.scorecard + " · " + v.score + " / 100")); });
      var sel = $("#scorecard");
      sel.textContent = "";
      cards.forEach(function (card) { sel.appendChild(el("option", { value: card.name }, card.name)); });
      questions();
      $("#score-result").textContent = cards.length ? "" : "The project declares no scorecard.";
      $("#contact").focus();
    });
  }

  $("#score-form").onsubmit = function (e) {
    e.preventDefault();
    var f = e.target, card = cards.filter(function (c) { return c.name === f.scorecard.value; })[0];
    if (!card || open == null) return;
    var answers = {};
    card.questions.forEach(function (q) {
      var picked = f.querySelector("input[name='q_" + q.name + "']:checked");
      if (picked) answers[q.name] = Number(picked.value);
    });
    fetch("/review/contacts/" + open, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ scorecard: card.name, answers: answers, note: f.note.value }) })
      .then(json).then(function (a) {
        if (a[0] === 201) {
          $("#score-result").textContent = "Scored " + a[1].score + " / 100.";
          var id = open;
          // The list and the contact again (its reviews now count this one), then the score.
          list(false).then(function () { return show(id); }).then(function () {
            $("#score-result").textContent = "Scored " + a[1].score + " / 100.";
          });
        } else {
          $("#score-result").textContent = a[1].error || ("Refused (" + a[0] + ").");
        }
      });
  };

  function showLogin(why) {
    $("#review").hidden = true;
    $("#login").hidden = false;
    $("#login-error").textContent = why || "";
  }
  $("#login").onsubmit = function (e) {
    e.preventDefault();
    var f = e.target.elements;
    fetch("/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ agent: f.agent.value.trim(), password: f.password.value }) })
      .then(json).then(function (a) {
        if (a[0] !== 200) { showLogin(a[1].error || "Wrong agent or password."); return; }
        if ((a[1].roles || []).indexOf("reviewer") < 0) { showLogin("You are not a reviewer."); return; }
        list(false);
      });
  };
  list(false);
})();
