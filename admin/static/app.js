// overlap admin page. Bodies and every string from the server are put in
// the page with textContent, never as HTML.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (sel) => document.querySelector(sel);
const MAX_ROWS = 200;   // the records table keeps the newest 200 rows
const history = [];     // samples for the chart, newest last
let pendingRecords = []; // batched between animation frames

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function fmtBytes(n) {
  const u = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}

async function api(method, path, body) {
  const opts = { method, headers: { "X-CSRF-Token": csrf } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}

// ---- services ----

function renderHost(h) {
  $("#host-name").textContent = h.name;
  $("#host-ips").textContent = (h.addresses || []).join("  ");
}

function serviceRow(s) {
  let tr = document.querySelector(`tr[data-service="${CSS.escape(s.name)}"]`);
  if (!tr) {
    tr = el("tr");
    tr.dataset.service = s.name;
    tr.append(el("td", s.name, "name"));
    const addr = el("input");
    addr.className = "addr";
    addr.setAttribute("aria-label", s.name + " address");
    const tdAddr = el("td"); tdAddr.append(addr); tr.append(tdAddr);
    const start = el("button", "Start", "start"); start.type = "button";
    const stop = el("button", "Stop", "stop"); stop.type = "button";
    start.onclick = () => act(s.name, "start", addr.value);
    stop.onclick = () => act(s.name, "stop");
    const tdBtn = el("td"); tdBtn.append(start, " ", stop); tr.append(tdBtn);
    tr.append(el("td", "", "status"), el("td", "", "conns"), el("td", "", "received"));
    $("#services tbody").append(tr);
  }
  const addr = tr.querySelector("input.addr");
  if (document.activeElement !== addr && !addr.dataset.edited) addr.value = s.addr;
  addr.oninput = () => { addr.dataset.edited = "1"; };
  addr.disabled = s.running || !s.can_change_addr;
  tr.querySelector("button.start").disabled = s.running;
  tr.querySelector("button.stop").disabled = !s.running;
  const st = tr.querySelector(".status");
  st.textContent = s.status;
  st.className = "status " + (s.running ? "ok" : s.error ? "bad" : "off");
  tr.querySelector(".conns").textContent = s.stats.open_conns;
  const d = s.details;
  tr.querySelector(".received").textContent =
    s.stats.bytes_in ? fmtBytes(s.stats.bytes_in) + (d ? `, ${d.records_stored} records stored` : "") : "";
}

function renderStatus(st) {
  renderHost(st.host);
  for (const s of st.services) serviceRow(s);
}

async function act(name, what, addr) {
  $("#action-error").textContent = "";
  try {
    const s = await api("POST", `/api/services/${encodeURIComponent(name)}/${what}`, what === "start" ? { addr } : undefined);
    const input = document.querySelector(`tr[data-service="${CSS.escape(name)}"] input.addr`);
    if (input) delete input.dataset.edited;
    serviceRow(s);
  } catch (e) {
    $("#action-error").textContent = `${name}: ${e.message}`;
    refresh();
  }
}

async function refresh() {
  try { renderStatus(await api("GET", "/api/status")); } catch (e) { /* the stream will retry */ }
}

// ---- chart: a small hand-written SVG, two lines scaled to their own max ----

function drawChart() {
  const svg = $("#chart");
  const W = 600, H = 160, n = 600;
  const data = history.slice(-n);
  svg.replaceChildren();
  const line = (key, cls) => {
    const maxV = Math.max(1, ...data.map((d) => d[key]));
    const pts = data.map((d, i) => `${(W * (i + n - data.length)) / (n - 1)},${H - 4 - ((H - 8) * d[key]) / maxV}`);
    const p = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    p.setAttribute("points", pts.join(" "));
    p.setAttribute("class", cls);
    svg.append(p);
  };
  if (data.length > 1) { line("bytes_ps", "bytes"); line("msgs_ps", "msgs"); }
  const last = data[data.length - 1];
  if (last) {
    $("#now-bytes").textContent = fmtBytes(last.bytes_ps) + "/s";
    $("#now-msgs").textContent = last.msgs_ps + "/s";
    $("#now-conns").textContent = last.conns;
  }
}

// ---- records ----

function recordRow(r) {
  const tr = el("tr");
  tr.dataset.id = r.id;
  tr.append(
    el("td", r.id),
    el("td", r.received_at.replace("T", " ").replace("Z", "")),
    el("td", r.client_ip.includes(":") ? `[${r.client_ip}]:${r.client_port}` : `${r.client_ip}:${r.client_port}`),
    el("td", r.size),
    el("td", r.ended),
    el("td", r.preview + (r.size > 64 ? "…" : ""), r.text ? "preview" : "preview hex"),
  );
  tr.onclick = () => openRecord(r.id);
  return tr;
}

// addRecords takes records oldest first; rendering is batched per frame and
// the table capped, so 1,000 records a second cost one DOM update a frame.
function addRecords(rs) {
  pendingRecords.push(...rs);
  if (pendingRecords.length === rs.length) requestAnimationFrame(flushRecords);
}

function flushRecords() {
  const rs = pendingRecords.slice(-MAX_ROWS);
  pendingRecords = [];
  const tbody = $("#records tbody");
  const frag = document.createDocumentFragment();
  for (let i = rs.length - 1; i >= 0; i--) {
    if (!tbody.querySelector(`tr[data-id="${rs[i].id}"]`)) frag.append(recordRow(rs[i]));
  }
  tbody.prepend(frag);
  while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(-1);
}

function hexDump(bytes) {
  const lines = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const chunk = bytes.slice(off, off + 16);
    const hex = Array.from(chunk, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const asc = Array.from(chunk, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(off.toString(16).padStart(8, "0") + "  " + hex.padEnd(48) + "  |" + asc + "|");
  }
  return lines.join("\n");
}

async function openRecord(id) {
  try {
    const r = await api("GET", `/api/records/${id}`);
    const bytes = Uint8Array.from(atob(r.body_base64 || ""), (c) => c.charCodeAt(0));
    $("#detail-id").textContent = r.id;
    $("#detail-meta").textContent = `${r.received_at}  from ${r.client_ip}:${r.client_port} to ${r.server_addr}  ${r.size} bytes  ended ${r.ended}`;
    $("#body-text").textContent = new TextDecoder().decode(bytes);
    $("#body-hex").textContent = hexDump(bytes);
    $("#download").href = `/api/records/${r.id}/body`;
    showHex(!r.text);
    $("#detail").hidden = false;
    $("#detail").scrollIntoView();
  } catch (e) {
    $("#action-error").textContent = `record ${id}: ${e.message}`;
  }
}

function showHex(hex) {
  $("#body-text").hidden = hex;
  $("#body-hex").hidden = !hex;
}

$("#show-text").onclick = () => showHex(false);
$("#show-hex").onclick = () => showHex(true);
$("#detail-close").onclick = () => { $("#detail").hidden = true; };

// ---- orders: refreshed every 2 s while the orders service has a store ----

async function refreshOrders() {
  let os;
  try { os = await api("GET", "/api/orders?limit=50"); } catch (e) { return false; }
  $("#orders-section").hidden = false;
  const tbody = $("#orders tbody");
  tbody.replaceChildren(...os.map((o) => {
    const tr = el("tr");
    tr.dataset.id = o.id;
    tr.append(el("td", o.id), el("td", o.received_at.replace("T", " ").replace("Z", "")),
      el("td", o.quantity), el("td", o.product_name), el("td", o.status));
    return tr;
  }));
  return true;
}

// The orders panel appears once /api/orders answers, and keeps refreshing;
// a failed load is tried again rather than hiding the panel for good.
function watchOrders() {
  refreshOrders();
  setInterval(refreshOrders, 2000);
}

// ---- live ----

async function start() {
  await refresh();
  try {
    history.push(...(await api("GET", "/api/history")));
    drawChart();
  } catch (e) { /* empty chart */ }
  try {
    const rs = await api("GET", "/api/records?limit=50");
    addRecords(rs.reverse());
  } catch (e) {
    $("#records-note").textContent = e.message;
  }
  const es = new EventSource("/api/events");
  es.onopen = () => { $("#live").textContent = "live"; $("#live").className = "badge ok"; };
  es.onerror = () => { $("#live").textContent = "reconnecting…"; $("#live").className = "badge bad"; };
  es.addEventListener("status", (ev) => {
    const m = JSON.parse(ev.data);
    renderStatus(m.status);
    history.push(m.sample);
    if (history.length > 600) history.splice(0, history.length - 600);
    drawChart();
  });
  es.addEventListener("records", (ev) => {
    const m = JSON.parse(ev.data);
    addRecords(m.records);
    $("#records-note").textContent = m.skipped ? `(${m.skipped} more arrived than shown)` : "";
  });
}

start();
watchOrders();
