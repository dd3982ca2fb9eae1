// Verify page (and customs page): hash the file here, send only its SHA-256, show the verdict.
"use strict";
(() => {
const { S, tr, when } = window.I18N; // i18n.js: messages, numbers, dates
const $ = (q) => document.querySelector(q);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
};
const status = (text, cls) => { const p = $("#progress"); p.textContent = text; p.className = "progress " + (cls || ""); };
class Offline extends Error {}
const REASONS = [["registered, not revoked", "ok"], ["the chain confirms", "ok"], ["unknown", "unknown"],
  ["revoked", "revoked"], ["superseded", "superseded"], ["not on chain yet", "pending"],
  ["issuer not authorised", "issuer"], ["chain unreachable", "chain"], ["cannot check", "chain"],
  ["index is", "lag"], ["tampered", "tampered"], ["another chain or contract", "deployment"]];
const reasonText = (r) => tr("reason." + ((REASONS.find(([p]) => r.startsWith(p)) || [0, "other"])[1]));

// SHA-256 in plain JS, for pages served without HTTPS (where crypto.subtle is missing).
function sha256js(bytes) {
  const K = [], H = [], frac = (x) => ((x - Math.floor(x)) * 4294967296) | 0;
  for (let n = 2, c = 0; c < 64; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break; }
    if (prime) { if (c < 8) H[c] = frac(Math.sqrt(n)); K[c++] = frac(Math.cbrt(n)); }
  }
  const l = bytes.length, n = ((l + 72) >> 6) << 6, m = new Uint8Array(n);
  m.set(bytes); m[l] = 0x80;
  const dv = new DataView(m.buffer), w = new Int32Array(64), r = (x, k) => (x >>> k) | (x << (32 - k));
  dv.setUint32(n - 4, (l * 8) >>> 0); dv.setUint32(n - 8, Math.floor(l / 536870912));
  for (let o = 0; o < n; o += 64) {
    for (let i = 0; i < 16; i++) w[i] = dv.getInt32(o + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15], b = w[i - 2];
      w[i] = ((r(a, 7) ^ r(a, 18) ^ (a >>> 3)) + w[i - 7] + (r(b, 17) ^ r(b, 19) ^ (b >>> 10)) + w[i - 16]) | 0;
    }
    let [A, B, C, D, E, F, G, X] = H;
    for (let i = 0; i < 64; i++) {
      const t1 = (X + (r(E, 6) ^ r(E, 11) ^ r(E, 25)) + ((E & F) ^ (~E & G)) + K[i] + w[i]) | 0;
      const t2 = ((r(A, 2) ^ r(A, 13) ^ r(A, 22)) + ((A & B) ^ (A & C) ^ (B & C))) | 0;
      X = G; G = F; F = E; E = (D + t1) | 0; D = C; C = B; B = A; A = (t1 + t2) | 0;
    }
    [A, B, C, D, E, F, G, X].forEach((v, i) => { H[i] = (H[i] + v) | 0; });
  }
  return H.map((x) => (x >>> 0).toString(16).padStart(8, "0")).join("");
}
window.sha256js = sha256js;

async function sha256(file) {
  const buf = await file.arrayBuffer();
  if (!(window.crypto && crypto.subtle)) return sha256js(new Uint8Array(buf));
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

function render(v) {
  const box = $("#result"), rec = v.record, iss = v.issuer || {};
  const mark = { VALID: "\u2713", INVALID: "\u2717" }[v.verdict] || "?";
  const kids = [el("div", { class: "verdict verdict-" + v.verdict, "data-verdict": v.verdict },
    el("span", { class: "mark", "aria-hidden": "true" }, mark),
    el("div", {}, el("p", { class: "word" }, tr("verdict." + v.verdict)), el("p", {}, tr("verdict." + v.verdict + ".help")))),
  el("h3", {}, tr("res.reasons")),
  el("ul", { class: "reasons" }, ...v.reasons.map((r) => el("li", {}, reasonText(r) + " ", v.verdict === "VALID" ? null : el("small", { dir: "ltr" }, r))))];
  const dl = el("dl", { class: "facts" }, el("dt", {}, tr("res.fingerprint")), el("dd", { class: "hash" }, el("bdi", {}, v.sha256)));
  if (rec) {
    const type = (S["doctype." + rec.doc_type] || rec.doc_type_name) + " (" + rec.doc_type + ")";
    const facts = [["issuer", iss.organisation || iss.key], ["country", iss.country], ["doc_type", type],
      ["consignment", rec.consignment_ref], ["registered_at", when(rec.registered_at)],
      ["status", tr("status." + rec.status)], ["cid", rec.cid], ["tx", rec.tx_hash], ["block", rec.block_number]];
    for (const [k, val] of facts) if (val !== null && val !== undefined) dl.append(el("dt", {}, tr("res." + k)), el("dd", {}, el("bdi", {}, String(val))));
  }
  kids.push(dl);
  if (v.history.length) kids.push(el("h3", {}, tr("res.history")), el("ol", { class: "history" },
    ...v.history.map((h) => el("li", {}, el("time", {}, when(h.at)), " " + tr("hist." + h.what)))));
  if (rec) {
    kids.push(el("h3", {}, tr("res.attestations")));
    if (!v.attestations.length) kids.push(el("p", {}, tr("res.no_attestations")));
    else kids.push(el("table", { class: "atts" },
      el("thead", {}, el("tr", {}, ...["att_by", "country", "att_verdict", "att_ref", "att_time"].map((k) => el("th", { scope: "col" }, tr("res." + k))))),
      el("tbody", {}, ...v.attestations.map((a) => el("tr", { class: a.revoked ? "revoked" : null },
        el("td", {}, a.attester.organisation || a.attester.key), el("td", {}, a.attester.country || ""),
        el("td", {}, tr("att." + a.verdict) + (a.revoked ? " (" + tr("res.att_revoked") + ")" : "")),
        el("td", {}, a.reference), el("td", {}, when(a.attested_at)))))));
  }
  const links = el("p", { class: "links" }, el("a", { href: "/v/" + v.sha256 }, tr("res.permalink")));
  if (rec && rec.tx_hash) links.append(el("a", { href: "/v/" + v.sha256 + "/slip.png" }, tr("res.slip")),
    el("a", { href: "/v1/documents/" + v.sha256 + "/evidence" }, tr("res.evidence")));
  kids.push(links);
  if (v.indexed_block !== null) kids.push(el("p", { class: "note" }, tr("res.index", { indexed: String(v.indexed_block), head: String(v.chain_head ?? "\u2014") })));
  box.replaceChildren(...kids);
  document.dispatchEvent(new CustomEvent("verified", { detail: v }));
}

async function post(url, headers, body) {
  try {
    return await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
  } catch { throw new Offline(); }
}

async function check(body) {
  status(tr("verify.checking"));
  try {
    const res = await post("/v1/verify", {}, body);
    const data = await res.json();
    if (!res.ok) throw new Error(data.detail || res.status);
    status("");
    render(data);
  } catch (e) {
    status(e instanceof Offline ? tr("err.network") : tr("err.generic", { detail: e.message }), "error");
  }
}

async function asBundle(file) {
  if (!/json$/i.test(file.name) || file.size > 5e6) return null;
  try {
    const b = JSON.parse(await file.text());
    return b && b.version === 1 && b.sha256 && b.contract ? b : null;
  } catch { return null; }
}

async function handle(files) {
  let bundle = null, doc = null;
  for (const f of files) {
    const b = await asBundle(f);
    if (b && !bundle) bundle = b; else if (!doc) doc = f;
  }
  let hash = null;
  if (doc) {
    status(tr("verify.hashing"));
    hash = await sha256(doc);
    $("#sha256").value = hash;
  }
  if (bundle && hash && hash !== bundle.sha256.replace(/^0x/, "").toLowerCase()) {
    return render({ verdict: "INVALID", reasons: ["tampered: the file's SHA-256 differs from the bundle's"], sha256: hash,
      record: null, issuer: null, attestations: [], history: [], indexed_block: null, chain_head: null });
  }
  if (bundle) { status(tr("verify.bundle_loaded")); return check({ bundle }); }
  if (hash) return check({ sha256: hash });
}

const drop = $("#drop"), input = $("#file");
drop.hidden = false; // hashing in the page needs this script; without it the form below works
input.addEventListener("change", () => input.files.length && handle([...input.files]));
for (const ev of ["dragenter", "dragover"]) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
for (const ev of ["dragleave", "drop"]) drop.addEventListener(ev, () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); if (e.dataTransfer.files.length) handle([...e.dataTransfer.files]); });
$(".hashform").addEventListener("submit", (e) => {
  const v = $("#sha256").value.trim().toLowerCase().replace(/^0x/, "");
  e.preventDefault();
  if (!/^[0-9a-f]{64}$/.test(v)) return status(tr("verify.bad_hash"), "error");
  check({ sha256: v });
});

// Customs page: an API key kept for this tab, and an attestation in two clicks.
const attest = $("#attest");
if (!attest) return;
const keyName = "tdl.key." + $(".key").dataset.keyPage;
const showKey = () => { const has = !!sessionStorage.getItem(keyName); $(".keyform").hidden = has; $(".keyset").hidden = !has; };
$(".keyform").addEventListener("submit", (e) => { e.preventDefault(); sessionStorage.setItem(keyName, $("#apikey").value.trim()); $("#apikey").value = ""; showKey(); });
$(".forget").addEventListener("click", () => { sessionStorage.removeItem(keyName); showKey(); });
showKey();
let current = null, chosen = null;
const confirm = $("#confirm"), said = $("#attest-status");
document.addEventListener("verified", (e) => {
  current = e.detail.record ? e.detail.sha256 : null;
  attest.hidden = !current;
});
for (const b of attest.querySelectorAll("[data-verdict]")) b.addEventListener("click", () => {
  chosen = b.dataset.verdict;
  attest.querySelectorAll("[data-verdict]").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
  confirm.textContent = tr("customs.confirm", { verdict: b.textContent });
  confirm.hidden = false; said.textContent = "";
});
confirm.addEventListener("click", async () => {
  const key = sessionStorage.getItem(keyName);
  if (!key) { said.textContent = tr("key.missing"); return; }
  confirm.disabled = true;
  try {
    const res = await post("/v1/documents/" + current + "/attestations", { Authorization: "Bearer " + key },
      { verdict: chosen, reference: $("#reference").value.trim() });
    const data = await res.json();
    if (!res.ok) throw new Error(data.detail || res.status);
    said.textContent = tr("customs.recorded");
    confirm.hidden = true; chosen = null;
    attest.querySelectorAll("[data-verdict]").forEach((x) => x.setAttribute("aria-pressed", "false"));
    await check({ sha256: current });
    attest.hidden = false;
  } catch (e) {
    said.textContent = e instanceof Offline ? tr("err.network") : tr("err.generic", { detail: e.message });
  } finally { confirm.disabled = false; }
});
})();
