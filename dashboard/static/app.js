// The dashboard's page: it takes the snapshots from the server-sent
// events at "events" and draws each in full. Text only goes in through
// textContent, never as HTML.
"use strict";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

const num = (x) => el("td", { class: "num" }, x);
const rate = (x) => num((x || 0).toFixed(x >= 100 ? 0 : 1));
const ms = (s) => num(s ? (s * 1000).toFixed(s < 0.01 ? 2 : 0) + " ms" : "–");

function fill(id, rows) {
  const body = document.querySelector("#" + id + " tbody");
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    const cols = document.querySelectorAll("#" + id + " thead th").length;
    body.append(el("tr", {}, el("td", { colspan: cols, class: "muted" }, "none")));
  }
}

function drawNodes(s) {
  fill("nodes", s.nodes.map((n) => el("tr", { class: n.up ? "up" : "down", "data-node": n.name, "data-status": n.up ? "up" : "down" },
    el("td", { class: "name" }, n.name),
    el("td", { class: "status", title: n.error || "" }, n.up ? "up" : "down"),
    el("td", {}, n.address),
    num(n.up ? n.processes : "–"),
    el("td", { class: "links" }, (n.links || []).join(", ")),
    el("td", {}, n.up ? (n.apps || []).map((a) => a.name).join(", ") : (n.error || "")),
    ms(n.rttSeconds))));

  // The graph: nodes on a circle, a line between two nodes that see each other.
  const g = document.getElementById("graph");
  const pos = {};
  const k = s.nodes.length;
  s.nodes.forEach((n, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(k, 1);
    pos[n.name] = k === 1 ? [0, 0] : [Math.round(100 * Math.cos(a)), Math.round(85 * Math.sin(a))];
  });
  const shapes = [];
  const up = Object.fromEntries(s.nodes.map((n) => [n.name, n]));
  for (const n of s.nodes) {
    for (const l of n.links || []) {
      if (n.name < l && pos[l] && (up[l].links || []).includes(n.name)) {
        shapes.push(svg("line", { x1: pos[n.name][0], y1: pos[n.name][1], x2: pos[l][0], y2: pos[l][1] }));
      }
    }
  }
  for (const n of s.nodes) {
    const [x, y] = pos[n.name];
    shapes.push(svg("circle", { cx: x, cy: y, r: 9, class: n.up ? "up" : "down", "data-node": n.name }));
    shapes.push(svg("text", { x: x, y: y + 22 }, n.name));
  }
  g.replaceChildren(...shapes);
}

function drawExchanges(s) {
  fill("exchanges", s.exchanges.map((e) => el("tr", { "data-exchange": e.name, "data-node": e.node },
    el("td", { class: "name" }, e.name),
    el("td", {}, e.node),
    el("td", {}, e.strategy || ""),
    el("td", { class: "leader" }, e.leader || "–"),
    el("td", { class: "controllers" }, e.error ? el("span", { class: "err" }, e.error) :
      (e.controllers || []).map((c) => c.node + (c.leader ? " ★" : "")).join(", ") || "none"),
    num(e.routed), rate(e.routedPerSecond), rate(e.errorsPerSecond), ms(e.rttSeconds))));
}

function drawQueues(s) {
  const most = Math.max(1, ...s.queues.map((q) => q.ready));
  fill("queues", s.queues.map((q) => el("tr", { "data-queue": q.name, "data-node": q.node },
    el("td", { class: "name" }, q.name),
    el("td", {}, q.node),
    el("td", { class: "num depth" }, q.ready, el("span", { class: "bar", style: "width:" + Math.round(80 * q.ready / most) + "px" })),
    num(q.inFlight), num(q.workers), num(q.deadLettered),
    rate(q.submittedPerSecond), rate(q.ackedPerSecond))));
}

function drawPubSub(s) {
  fill("pubsub", s.pubsub.map((p) => el("tr", { "data-exchange": p.name, "data-node": p.node },
    el("td", { class: "name" }, p.name),
    el("td", {}, p.node),
    num(p.subscribers), num(p.subscriptions),
    rate(p.publishedPerSecond), rate(p.deliveredPerSecond),
    el("td", {}, p.upstream ? p.upstream + (p.connected ? "" : " (not connected)") : "–"))));
}

function tree(t) {
  const label = el("span", { class: t.type === "supervisor" ? "sup" : "" }, t.id);
  const extra = [];
  if (t.strategy) extra.push(t.strategy);
  if (t.restart) extra.push(t.restart);
  if (t.restarts) extra.push(t.restarts + " restarts");
  const li = el("li", { "data-child": t.id }, label, " ", el("span", { class: "muted" }, (t.pid || "not running") + (extra.length ? " · " + extra.join(", ") : "")));
  if (t.children && t.children.length) li.append(el("ul", { class: "tree" }, ...t.children.map(tree)));
  return li;
}

function drawApps(s) {
  const parts = [];
  for (const n of s.nodes) {
    if (!n.up) continue;
    for (const a of n.apps || []) {
      parts.push(el("div", { class: "app", "data-app": a.name, "data-node": n.name },
        el("b", {}, a.name), " on ", n.name, el("span", { class: "muted" }, " (" + a.restart + ")"),
        el("ul", { class: "tree" }, tree(a.tree))));
    }
  }
  document.getElementById("apps").replaceChildren(...(parts.length ? parts : [el("p", { class: "muted" }, "none")]));
}

function draw(s) {
  for (const k of ["nodes", "exchanges", "queues", "pubsub"]) s[k] = s[k] || [];
  document.getElementById("observer").textContent = "served by " + s.observer;
  document.getElementById("time").textContent = new Date(s.time).toLocaleTimeString();
  drawNodes(s);
  drawExchanges(s);
  drawQueues(s);
  drawPubSub(s);
  drawApps(s);
  const errs = s.errors || [];
  document.getElementById("errors").replaceChildren(...errs.map((e) => el("li", {}, e)));
  document.getElementById("errors-section").hidden = errs.length === 0;
  document.body.dataset.snapshot = s.time;
}

const live = document.getElementById("live");
const source = new EventSource("events");
source.addEventListener("snapshot", (ev) => {
  live.textContent = "live";
  live.className = "ok";
  draw(JSON.parse(ev.data));
});
source.addEventListener("error", () => {
  live.textContent = "reconnecting…";
  live.className = "stale";
});
