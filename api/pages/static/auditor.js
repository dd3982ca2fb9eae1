// Auditor page: filtered, paginated documents from the audit API, CSV export, a per-day chart.
"use strict";
(() => {
const { S, tr, num, when, isoDay, axisDay } = window.I18N; // i18n.js: messages, numbers, dates
const $ = (q) => document.querySelector(q);
const SVG = "http://www.w3.org/2000/svg";
const el = (tag, attrs = {}, ...kids) => {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
};
const keyName = "tdl.key." + $(".key").dataset.keyPage;
const showKey = () => { const has = !!sessionStorage.getItem(keyName); $(".keyform").hidden = has; $(".keyset").hidden = !has; };
$(".keyform").addEventListener("submit", (e) => { e.preventDefault(); sessionStorage.setItem(keyName, $("#apikey").value.trim()); $("#apikey").value = ""; showKey(); load(); });
$(".forget").addEventListener("click", () => { sessionStorage.removeItem(keyName); showKey(); });
showKey();

const say = (t) => { $("#status").textContent = t; };
class Offline extends Error {}
function filters() {
  const p = new URLSearchParams();
  for (const [k, v] of new FormData($("#filters"))) if (String(v).trim()) p.set(k, String(v).trim());
  return p;
}
async function get(path, params) {
  const key = sessionStorage.getItem(keyName);
  if (!key) throw new Error(tr("key.missing"));
  let res;
  try { res = await fetch(path + "?" + params, { headers: { Authorization: "Bearer " + key } }); } catch { throw new Offline(); }
  if (!res.ok) { let d = {}; try { d = await res.json(); } catch { /* not JSON */ } throw new Error(d.detail || res.status); }
  return res;
}
const fail = (e) => say(e instanceof Offline ? tr("err.network") : tr("err.generic", { detail: e.message }));

let cursors = [null];
const PAGE_SIZE = new URLSearchParams(location.search).get("limit") || "25";
async function page(i) {
  const p = filters();
  p.set("limit", PAGE_SIZE);
  if (cursors[i]) p.set("cursor", cursors[i]);
  say(tr("auditor.loading"));
  try {
    const data = await (await get("/v1/audit/documents", p)).json();
    const body = $("#docs tbody");
    body.replaceChildren(...data.items.map((d) => el("tr", {},
      el("td", {}, when(d.registered_at)),
      el("td", {}, (S["doctype." + d.doc_type] || d.doc_type_name) + " (" + d.doc_type + ")"),
      el("td", {}, d.consignment_ref), el("td", {}, (d.issuer && d.issuer.organisation) || ""),
      el("td", {}, (d.issuer && d.issuer.country) || ""), el("td", {}, tr("status." + d.status)),
      el("td", { class: "hash", dir: "ltr" }, el("a", { href: "/v/" + d.sha256 }, d.sha256.slice(0, 16) + "\u2026")))));
    if (!data.items.length) body.append(el("tr", {}, el("td", { colspan: "7" }, tr("auditor.empty"))));
    cursors = cursors.slice(0, i + 1);
    if (data.next_cursor) cursors.push(data.next_cursor);
    $("#prev").disabled = i === 0; $("#next").disabled = !data.next_cursor;
    $("#prev").dataset.page = i - 1; $("#next").dataset.page = i + 1;
    $("#page").textContent = tr("auditor.page", { n: i + 1 });
    $("#lag").textContent = tr("auditor.lag", { indexed: String(data.indexed_block), head: String(data.chain_head ?? "\u2014"), lag: data.lag ?? "\u2014" });
    say("");
  } catch (e) { fail(e); }
}

async function chart() {
  const p = new URLSearchParams(), f = filters();
  for (const k of ["from", "to"]) if (f.get(k)) p.set(k, f.get(k));
  try {
    const days = (await (await get("/v1/audit/stats/daily", p)).json()).days || [];
    const W = 640, H = 200, pad = 28, n = Math.max(days.length, 1), bw = Math.min((W - pad) / n, 48);
    const max = Math.max(1, ...days.map((d) => Math.max(d.registrations, d.attestations)));
    const y = (v) => H - pad - ((H - 2 * pad) * v) / max;
    const svg = el("svg:svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": tr("auditor.chart"), width: "100%" },
      el("svg:line", { x1: pad, x2: W, y1: H - pad, y2: H - pad, stroke: "#767676" }),
      el("svg:text", { x: 0, y: y(max) + 4 }, num(max)), el("svg:text", { x: 0, y: H - pad }, num(0)));
    const every = Math.ceil(n / 8);
    days.forEach((d, i) => {
      const x = pad + i * bw, w = Math.max(1, bw / 2 - 2);
      for (const [k, cls, dx] of [["registrations", "bar-r", 1], ["attestations", "bar-a", w + 2]]) {
        svg.append(el("svg:rect", { x: x + dx, y: y(d[k]), width: w, height: H - pad - y(d[k]), class: cls },
          el("svg:title", {}, isoDay(d.day) + ": " + tr("auditor.n_" + k, { count: d[k] }))));
      }
      if (i % every === 0) {
        const [g, solar] = axisDay(d.day);
        svg.append(el("svg:text", { x, y: H - (solar ? 14 : 10), class: "day" }, g));
        if (solar) svg.append(el("svg:text", { x, y: H - 1, class: "day" }, solar));
      }
    });
    const legend = el("p", { class: "note" }, el("span", { class: "key-r" }, "\u25A0 " + tr("auditor.registrations")), "  ",
      el("span", { class: "key-a" }, "\u25A0 " + tr("auditor.attestations")));
    $("#chart").replaceChildren(svg, legend);
  } catch (e) { fail(e); }
}

async function csv() {
  const p = filters();
  p.set("format", "csv");
  try {
    const blob = await (await get("/v1/audit/documents", p)).blob();
    const a = el("a", { href: URL.createObjectURL(blob), download: "ledger-audit.csv" });
    document.body.append(a); a.click(); a.remove();
  } catch (e) { fail(e); }
}

// The organisation filters list the admitted organisations by name (issuers, attesters).
async function organisations() {
  try {
    const orgs = (await (await get("/v1/audit/organisations", new URLSearchParams())).json()).organisations || [];
    for (const select of document.querySelectorAll("select[data-kinds]")) {
      const kinds = select.dataset.kinds.split(" "), chosen = select.value;
      select.replaceChildren(select.options[0], ...orgs.filter((o) => kinds.includes(o.kind)).map((o) =>
        el("option", { value: String(o.org_id) }, `${o.name} (${o.country})`)));
      select.value = chosen;
    }
  } catch (e) { fail(e); }
}

function load() { cursors = [null]; organisations(); page(0); chart(); }
$("#filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
$("#prev").addEventListener("click", (e) => page(Number(e.target.dataset.page)));
$("#next").addEventListener("click", (e) => page(Number(e.target.dataset.page)));
$("#csv").addEventListener("click", csv);
if (sessionStorage.getItem(keyName)) load();
})();
