// The live wallboard: plain JavaScript, no build step. It logs a manager in (POST /login
// sets a session cookie), then listens to /wallboard/stream (server-sent events), which
// sends the whole board each second. The figures are made by the daemon: today's per queue
// are the report's own (`switchboard report`), so the two agree.
(function () {
  "use strict";
  var $ = function (sel) { return document.querySelector(sel); };
  var source = null, flows = [];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function pct(x) { return x == null ? "–" : Math.round(x * 1000) / 10 + "%"; }
  function secs(x) { return x == null ? "–" : x < 90 ? Math.round(x) + " s" : Math.round(x / 6) / 10 + " min"; }
  function num(x) { return x == null ? "–" : String(x); }
  function cell(row, text, cls) { var td = el("td", { "class": cls || "num" }, text); row.appendChild(td); return td; }

  function draw(b) {
    $("#updated").textContent = "Updated " + new Date(b.at_ms).toLocaleTimeString() + " · today since " +
      new Date(b.today_from_ms).toLocaleTimeString() + " (" + b.zone + ")";
    var body = $("#queues tbody");
    body.textContent = "";
    (b.queues || []).forEach(function (q) {
      var tr = el("tr", { "data-queue": q.queue, "data-channel": q.channel });
      cell(tr, q.queue, "");
      cell(tr, q.channel, "");
      cell(tr, num(q.waiting_now)).setAttribute("data-key", "waiting");
      cell(tr, secs(q.longest_wait_seconds));
      cell(tr, num(q.offered)).setAttribute("data-key", "offered");
      cell(tr, num(q.answered)).setAttribute("data-key", "answered");
      cell(tr, num(q.abandoned)).setAttribute("data-key", "abandoned");
      var sl = cell(tr, pct(q.sl_abandons_excluded));
      sl.setAttribute("data-key", "service_level");
      if (q.target && q.sl_abandons_excluded != null && q.sl_abandons_excluded * 100 < q.target.percent) sl.className = "num bad";
      cell(tr, q.target ? q.target.percent + "% in " + secs(q.target.within_ms / 1000) : "–");
      cell(tr, secs(q.asa_seconds));
      cell(tr, num(q.callbacks_pending));
      body.appendChild(tr);
    });
    var agents = $("#agents");
    agents.textContent = "";
    Object.keys(b.agents || {}).forEach(function (k) {
      agents.appendChild(el("dt", {}, k.replace("_", " ")));
      agents.appendChild(el("dd", { "data-key": "agents-" + k }, String(b.agents[k])));
    });
    agents.appendChild(el("dt", {}, "occupancy"));
    agents.appendChild(el("dd", {}, pct(b.occupancy)));
    var surveys = $("#surveys tbody");
    surveys.textContent = "";
    (b.flows || []).forEach(function (f) {
      var tr = el("tr");
      cell(tr, f.flow, "");
      cell(tr, f.csat_responses ? pct(f.csat) + " (" + f.csat_responses + ")" : "–");
      cell(tr, f.nps_responses ? Math.round(f.nps) + " (" + f.nps_responses + ")" : "–");
      cell(tr, f.ces_responses ? Math.round(f.ces * 10) / 10 + " (" + f.ces_responses + ")" : "–");
      surveys.appendChild(tr);
    });
    var neg = $("#negative");
    neg.textContent = "";
    (b.negative || []).forEach(function (n) {
      neg.appendChild(el("li", {}, "Contact " + n.contact + ": " + n.survey + " " + n.question + " = " + n.answer +
        (n.follow_up.length ? " → " + n.follow_up.join(", ") : " (no follow-up)")));
    });
    if (!(b.negative || []).length) neg.appendChild(el("li", { "class": "quiet" }, "None today."));
    var funnels = $("#funnels");
    funnels.textContent = "";
    (b.funnels || []).forEach(function (f) {
      var box = el("section", { "class": "funnel", "data-flow": f.flow });
      box.appendChild(el("h3", {}, f.flow + " · " + f.contacts + " contacts"));
      var ol = el("ol");
      var top = Math.max(1, f.contacts);
      f.waypoints.forEach(function (w) {
        var li = el("li", { "data-waypoint": w.waypoint });
        li.appendChild(el("span", {}, w.waypoint));
        var bar = el("div");
        var fill = el("div", { "class": "barfill", role: "img", "aria-label": w.contacts + " contacts" });
        fill.style.width = (100 * w.contacts / top) + "%";
        bar.appendChild(fill);
        li.appendChild(bar);
        li.appendChild(el("span", { "data-key": "through" }, w.contacts + (w.dropped ? " (−" + w.dropped + ")" : "") +
          (w.median_seconds_from_previous != null ? " · " + secs(w.median_seconds_from_previous) : "")));
        ol.appendChild(li);
      });
      box.appendChild(ol);
      funnels.appendChild(box);
    });
    var select = $("#flow");
    if (JSON.stringify(flows) !== JSON.stringify(b.graphs || [])) {
      flows = b.graphs || [];
      select.textContent = "";
      flows.forEach(function (f) { select.appendChild(el("option", { value: f }, f)); });
    }
    if (select.value) $("#graph").src = "/wallboard/graph/" + encodeURIComponent(select.value) + ".svg?t=" + b.at_ms;
  }

  // Reports: the same figures `switchboard report` gives, from GET /reports.
  var COLUMNS = [["offered", num], ["answered", num], ["abandoned", num], ["sl_abandons_excluded", pct],
    ["sl_abandons_met", pct], ["sl_abandons_against", pct], ["asa_seconds", secs], ["aht_seconds", secs],
    ["transfers", num], ["fcr", pct], ["csat", pct], ["nps", num], ["ces", num]];
  var HEADS = ["Offered", "Answered", "Abandoned", "SL (abandons excluded)", "SL (abandons as met)",
    "SL (abandons after target against)", "ASA", "AHT", "Transfers", "FCR", "CSAT", "NPS", "CES"];
  function report(e) {
    if (e) e.preventDefault();
    var f = $("#report-form").elements, params = [];
    ["from", "to", "by", "interval", "segment"].forEach(function (k) {
      if (f[k].value) params.push(k + "=" + encodeURIComponent(f[k].value));
    });
    var q = params.join("&");
    $("#report-csv").href = "/reports?format=csv" + (q ? "&" + q : "");
    fetch("/reports?" + q).then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); }).then(function (a) {
      $("#report-error").textContent = a[0] === 200 ? "" : (a[1].message || "The report could not be made.");
      if (a[0] !== 200) return;
      var rows = a[1].rows || [];
      var keys = ["interval", "queue", "channel", "flow", "waypoint", "agent", "segment"].filter(function (k) {
        return rows.some(function (r) { return r[k] != null; });
      });
      var head = $("#report thead"), body = $("#report tbody");
      head.textContent = ""; body.textContent = "";
      var tr = el("tr");
      keys.concat(HEADS).forEach(function (h) { tr.appendChild(el("th", { scope: "col" }, h)); });
      head.appendChild(tr);
      rows.forEach(function (r) {
        var row = el("tr");
        keys.forEach(function (k) { cell(row, r[k] == null ? "" : String(r[k]), ""); });
        COLUMNS.forEach(function (c) {
          var v = r[c[0]];
          cell(row, c[1] === num && typeof v === "number" && v % 1 ? String(Math.round(v * 10) / 10) : c[1](v)).setAttribute("data-key", c[0]);
        });
        body.appendChild(row);
      });
      if (!rows.length) body.appendChild(el("tr", {}, "")).appendChild(el("td", { colspan: "20" }, "No contacts in this period."));
    });
  }
  $("#report-form").onsubmit = report;

  function listen() {
    report();
    $("#login").hidden = true;
    $("#board").hidden = false;
    source = new EventSource("/wallboard/stream");
    source.addEventListener("board", function (e) { draw(JSON.parse(e.data)); });
    source.onerror = function () {
      fetch("/wallboard/data").then(function (r) {
        if (r.status === 401 || r.status === 403) { source.close(); showLogin(r.status === 403 ? "You are not a manager." : ""); }
      });
    };
  }
  function showLogin(why) {
    $("#board").hidden = true;
    $("#login").hidden = false;
    $("#login-error").textContent = why || "";
  }
  $("#login").onsubmit = function (e) {
    e.preventDefault();
    var f = e.target.elements;
    fetch("/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ agent: f.agent.value.trim(), password: f.password.value }) })
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (a) {
        if (a[0] !== 200) { showLogin(a[1].message || "Wrong agent or password."); return; }
        if ((a[1].roles || []).indexOf("manager") < 0) { showLogin("You are not a manager."); return; }
        listen();
      });
  };
  fetch("/wallboard/data").then(function (r) { if (r.ok) listen(); else showLogin(r.status === 403 ? "You are not a manager." : ""); });
})();
