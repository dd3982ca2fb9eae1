// Exporter page: register one document or a shipment, with upload progress, then show each status.
"use strict";
(() => {
const { tr } = window.I18N; // i18n.js: messages, numbers, dates
const $ = (q) => document.querySelector(q);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
};
const keyName = "tdl.key." + $(".key").dataset.keyPage;
const showKey = () => { const has = !!sessionStorage.getItem(keyName); $(".keyform").hidden = has; $(".keyset").hidden = !has; };
$(".keyform").addEventListener("submit", (e) => { e.preventDefault(); sessionStorage.setItem(keyName, $("#apikey").value.trim()); $("#apikey").value = ""; showKey(); });
$(".forget").addEventListener("click", () => { sessionStorage.removeItem(keyName); showKey(); });
showKey();

const files = $("#files"), list = $("#filelist"), say = (t) => { $("#status").textContent = t; };
files.addEventListener("change", () => {
  const body = list.querySelector("tbody");
  body.replaceChildren(...[...files.files].map((f) => {
    const select = $("#typeselect").content.firstElementChild.cloneNode(true);
    select.setAttribute("aria-label", tr("exporter.type_for", { name: f.name }));
    return el("tr", {}, el("td", {}, f.name), el("td", {}, select));
  }));
  list.hidden = !files.files.length;
});

function send(url, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Authorization", "Bearer " + sessionStorage.getItem(keyName));
    xhr.upload.addEventListener("progress", (e) => e.lengthComputable && onProgress(Math.round((100 * e.loaded) / e.total)));
    xhr.upload.addEventListener("load", () => onProgress(100));
    xhr.onload = () => { let data = {}; try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ } resolve({ status: xhr.status, data }); };
    xhr.onerror = () => reject(Object.assign(new Error("offline"), { offline: true }));
    xhr.send(form);
  });
}

const rows = $("#results tbody");
function row(name, type, rec, exists) {
  const state = el("td", { "data-status": rec.status }, tr("status." + rec.status) + (exists ? " \u2014 " + tr("exporter.exists") : ""));
  rows.append(el("tr", { "data-sha256": rec.sha256 }, el("td", {}, name), el("td", {}, type), state,
    el("td", { class: "hash", dir: "ltr" }, el("a", { href: "/v/" + rec.sha256 }, rec.sha256)),
    el("td", {}, el("a", { href: "/v/" + rec.sha256 + "/slip.png" }, tr("res.slip")))));
  if (rec.status === "pending") poll(rec.sha256, state, 0);
}

async function poll(sha, cell, tries) {
  if (tries > 60) return;
  await new Promise((r) => setTimeout(r, 1500));
  try {
    const res = await fetch("/v1/documents/" + sha);
    const data = res.ok ? await res.json() : null;
    if (data && data.record.status !== "pending") {
      cell.dataset.status = data.record.status; cell.textContent = tr("status." + data.record.status); return;
    }
  } catch { /* try again */ }
  poll(sha, cell, tries + 1);
}

$("#register").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!sessionStorage.getItem(keyName)) return say(tr("key.missing"));
  const chosen = [...files.files], selects = [...list.querySelectorAll("select")];
  if (!chosen.length) return say(tr("exporter.no_files"));
  const form = new FormData(), batch = chosen.length > 1;
  chosen.forEach((f, i) => { form.append(batch ? "files" : "file", f); form.append("doc_type", selects[i].value); });
  form.append("consignment_ref", $("#consignment").value.trim());
  const bar = $("#upload"), button = e.submitter || $("#register button");
  bar.hidden = false; bar.value = 0; button.disabled = true;
  try {
    const { status, data } = await send(batch ? "/v1/documents/batch" : "/v1/documents", form, (pct) => {
      bar.value = pct; say(pct < 100 ? tr("exporter.uploading", { pct }) : tr("exporter.waiting"));
    });
    const types = selects.map((s) => s.selectedOptions[0].textContent);
    if (status === 409 && data.record) { row(chosen[0].name, types[0], data.record, true); say(tr("exporter.exists")); }
    else if (status >= 400) say(tr("err.generic", { detail: data.detail || status }));
    else {
      (batch ? data.documents : [data]).forEach((rec, i) => row(chosen[i] ? chosen[i].name : "", types[i] || "", rec, false));
      say(tr("exporter.done"));
    }
    $("#results").hidden = !rows.children.length;
  } catch (err) {
    say(err.offline ? tr("err.network") : tr("err.generic", { detail: err.message }));
  } finally { button.disabled = false; }
});
})();
