// Shared by the pages' scripts: messages (ICU plural subset), numbers, plural categories and
// dates in the page's language, exactly as api/pages/{messages,formats,solarhijri}.py do it.
"use strict";
(() => {
const S = JSON.parse(document.getElementById("strings").textContent);
const F = JSON.parse(document.getElementById("formats").textContent);
const digits = (s) => String(s).replace(/[0-9]/g, (d) => F.digits[d]);

// Numbers: grouping by three, up to three decimals, the language's symbols and digits.
function num(n) {
  const neg = n < 0, [int, frac] = Math.abs(Math.round(n * 1000) / 1000).toString().split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, "\u0000").split("\u0000").join(F.group);
  return (neg ? "-" : "") + digits(grouped + (frac ? F.decimal + frac : ""));
}

// CLDR plural rules of the five languages (checked against Babel's in the browser tests).
function category(n) {
  const s = String(n), i = Math.trunc(Math.abs(n)), v = s.includes(".") ? s.split(".")[1].length : 0;
  switch (F.lang) {
    case "ru":
      if (v !== 0) return "other";
      if (i % 10 === 1 && i % 100 !== 11) return "one";
      if (i % 10 >= 2 && i % 10 <= 4 && !(i % 100 >= 12 && i % 100 <= 14)) return "few";
      return "many";
    case "fa": return i === 0 || n === 1 ? "one" : "other";
    case "kk": case "ps": return n === 1 ? "one" : "other";
    default: return i === 1 && v === 0 ? "one" : "other";
  }
}

// Messages: {name} and {name, plural, one {...} other {...}} with # for the count.
function parse(text, i, inPlural) {
  const parts = [];
  let buf = "";
  while (i < text.length && text[i] !== "}") {
    const c = text[i];
    if (c === "#" && inPlural) { parts.push(buf, { pound: true }); buf = ""; i++; }
    else if (c === "{") {
      parts.push(buf); buf = "";
      const m = /^\s*(\w+)\s*(?:,\s*plural\s*,)?/.exec(text.slice(i + 1));
      i += 1 + m[0].length;
      if (!m[0].includes("plural")) { parts.push({ arg: m[1] }); i = text.indexOf("}", i) + 1; continue; }
      const branches = {};
      for (;;) {
        while (/\s/.test(text[i])) i++;
        if (text[i] === "}") { i++; break; }
        const open = text.indexOf("{", i), sel = text.slice(i, open).trim();
        const [body, end] = parse(text, open + 1, true);
        branches[sel] = body; i = end + 1;
      }
      parts.push({ plural: m[1], branches });
    } else { buf += c; i++; }
  }
  parts.push(buf);
  return [parts, i];
}
function render(parts, v, count) {
  return parts.map((p) => {
    if (typeof p === "string") return p;
    if (p.pound) return num(count);
    if (p.arg) return !(p.arg in v) ? "{" + p.arg + "}" : typeof v[p.arg] === "number" ? num(v[p.arg]) : String(v[p.arg]);
    const n = v[p.plural];
    if (typeof n !== "number") return "{" + p.plural + "}";
    return render(p.branches["=" + n] || p.branches[category(n)] || p.branches.other, v, n);
  }).join("");
}
const cache = {};
const tr = (k, v = {}) => render(cache[k] || (cache[k] = parse(S[k] || k, 0, false)[0]), v);

// The Afghan Solar Hijri calendar (Borkowski's algorithm, as api/pages/solarhijri.py).
const BREAKS = [-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324, 2394, 2456, 3178];
const div = (a, b) => Math.trunc(a / b), mod = (a, b) => a - div(a, b) * b;
const dayNumber = (y, m, d) => Math.floor(Date.UTC(y, m - 1, d) / 86400000);
function yearFacts(jy) {
  const gy = jy + 621;
  let leapJ = -14, jp = BREAKS[0], jump = 0;
  for (let k = 1; k < BREAKS.length; k++) {
    const jm = BREAKS[k];
    jump = jm - jp;
    if (jy < jm) break;
    leapJ += div(jump, 33) * 8 + div(mod(jump, 33), 4);
    jp = jm;
  }
  let n = jy - jp;
  leapJ += div(n, 33) * 8 + div(mod(n, 33) + 3, 4);
  if (mod(jump, 33) === 4 && jump - n === 4) leapJ += 1;
  const leapG = div(gy, 4) - div((div(gy, 100) + 1) * 3, 4) - 150;
  if (jump - n < 6) n = n - jump + div(jump + 4, 33) * 33;
  return { leap: mod(mod(n + 1, 33) - 1, 4) === 0, nowruz: dayNumber(gy, 3, 20 + leapJ - leapG) };
}
function fromGregorian(y, m, d) {
  const day = dayNumber(y, m, d);
  let jy = y - 621, start = yearFacts(jy).nowruz;
  if (day < start) { jy -= 1; start = yearFacts(jy).nowruz; }
  let k = day - start;
  if (k < 186) return [jy, 1 + div(k, 31), 1 + (k % 31)];
  k -= 186;
  return [jy, 7 + div(k, 30), 1 + (k % 30)];
}

// Dates: the language's CLDR pattern (from Babel), then the Solar Hijri date for Dari and Pashto.
function gregorian(y, m, d, pattern = F.date) {
  return pattern.replace(/'([^']*)'|y+|M+|L+|d+/g, (t, quoted) => {
    if (quoted !== undefined) return quoted || "'";
    if (t[0] === "y") return digits(y);
    if (t[0] === "d") return digits(t.length > 1 ? String(d).padStart(2, "0") : d);
    if (t.length >= 3) return F.months[t][m - 1];
    return digits(t.length > 1 ? String(m).padStart(2, "0") : m);
  });
}
function day(y, m, d) {
  if (!F.solar) return gregorian(y, m, d);
  const [sy, sm, sd] = fromGregorian(y, m, d);
  return gregorian(y, m, d) + " (" + digits(sd) + " " + F.solar[sm - 1] + " " + digits(sy) + ")";
}
// A Unix time (seconds) or an ISO 8601 string as date and UTC time of day.
function when(t) {
  if (t === null || t === undefined || t === "") return "";
  const at = new Date(typeof t === "number" ? t * 1000 : t);
  const clock = digits(String(at.getUTCHours()).padStart(2, "0") + ":" + String(at.getUTCMinutes()).padStart(2, "0"));
  return F.glue.replace("{1}", day(at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate())).replace("{0}", clock + " " + F.utc);
}
// A calendar day given as YYYY-MM-DD.
const isoDay = (s) => day(...s.split("-").map(Number));
// The same, short, for a chart axis: [day and month, Solar Hijri day and month or null].
function axisDay(s) {
  const [y, m, d] = s.split("-").map(Number), [, sm, sd] = fromGregorian(y, m, d);
  return [gregorian(y, m, d, F.day_month), F.solar ? digits(sd) + " " + F.solar[sm - 1] : null];
}

window.I18N = { S, tr, num, category, when, isoDay, axisDay, day, fromGregorian };
})();
