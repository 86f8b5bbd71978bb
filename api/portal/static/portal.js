// The SCF portal's shared script: calls to the HTTP API with the session cookie, exact money, dates,
// safe DOM building, and the page dispatch. No framework, no build step, nothing from another origin.
// Every page module (./pages/<slug>.js) exports `render(ctx)`.

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";

/** An error answer of the API: its status, machine-readable code and message for people. */
export class Problem extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

// Integers beyond 2^53 (token amounts) are kept exact as BigInt, read from the JSON text itself.
function parseJson(text) {
  return JSON.parse(text, (key, value, context) =>
    typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value) && context?.source
      ? BigInt(context.source)
      : value,
  );
}

function toJson(body) {
  return JSON.stringify(body, (key, value) => {
    if (typeof value !== "bigint") return value;
    if (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(value);
    throw new Problem(0, "AMOUNT_TOO_LARGE", "The amount is too large for this form.");
  });
}

/**
 * Call the API as the signed-in participant. A state-changing call carries the session's CSRF token,
 * and `idempotencyKey` when given (the same key for every retry of one action: one transaction).
 */
export async function api(method, path, body, { idempotencyKey } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = meta("csrf-token");
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : toJson(body),
      credentials: "same-origin",
    });
  } catch {
    throw new Problem(0, "NETWORK", "The gateway could not be reached. Check the connection and try again.");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? parseJson(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data?.error ?? {};
    if (response.status === 401) {
      window.location.assign("/app/sign-in?ended=1");
    }
    throw new Problem(response.status, error.code ?? `HTTP_${response.status}`, error.message ?? response.statusText, error.details);
  }
  return data;
}

/** Every item of a paged list (the API pages by `limit`/`offset`). */
export async function all(path, limit = 500) {
  const items = [];
  for (let offset = 0; ; offset += limit) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api("GET", `${path}${sep}limit=${limit}&offset=${offset}`);
    items.push(...page.items);
    if (items.length >= page.total || page.items.length === 0) return items;
  }
}

// ------------------------------------------------------------------------------------------ money

/** The deployment profile's default currency (the page's meta): only for a page with no row currency. */
export const defaultCurrency = () => meta("scf-currency") || "EUR";

// ISO 4217 minor units as the gateway states them (GET /settlement/currencies, asked before a page renders):
// the amounts' own scale. The browser's currency data is the fallback only for a currency the platform does
// not settle in; it differs from ISO 4217 for some codes (HUF, IDR, COP, IQD), which would shift amounts.
const isoDigits = new Map();

// one formatter per currency and scale, in the browser's locale (JPY 0, EUR and CNY 2, KWD 3)
const formatters = new Map();
function formatter(currency) {
  const code = typeof currency === "string" ? currency.trim().toUpperCase() : "";
  const digits = isoDigits.get(code);
  const key = `${code}/${digits ?? ""}`;
  let found = formatters.get(key);
  if (!found) {
    if (!/^[A-Z]{3}$/.test(code)) {
      throw new Problem(0, "CURRENCY_UNKNOWN", `No currency for this amount (${currency}): an ISO 4217 code is needed.`);
    }
    const scale = digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits };
    found = new Intl.NumberFormat(undefined, { style: "currency", currency: code, ...scale });
    formatters.set(key, found);
  }
  return found;
}

/** Digits after the decimal point of `currency` (its ISO 4217 minor unit: 2 for EUR and CNY, 0 for JPY). */
export const minorDigits = (currency) => formatter(currency).resolvedOptions().maximumFractionDigits;

/** An amount in minor units of `currency` as a decimal string, exactly (no floating point): 123456 -> "1234.56". */
export function decimalOf(minor, currency) {
  const digits = minorDigits(currency);
  let value = BigInt(minor);
  const negative = value < 0n;
  if (negative) value = -value;
  const text = value.toString().padStart(digits + 1, "0");
  const whole = text.slice(0, text.length - digits) || "0";
  const fraction = digits ? `.${text.slice(text.length - digits)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/**
 * Minor units of `currency` formatted in it and the browser's locale ("€1,234.56", "1 234,56 €",
 * "CN¥1,234.56", "¥1,235" for JPY).
 */
export function money(minor, currency) {
  if (minor === null || minor === undefined) return "—";
  return formatter(currency).format(decimalOf(minor, currency)); // a decimal string is formatted exactly
}

/** Sum `value(row)` per currency (`row.currency`), by code: [{currency, minor}]. Currencies are never added. */
export function totalsByCurrency(rows, value) {
  const totals = new Map();
  for (const row of rows) totals.set(row.currency, (totals.get(row.currency) ?? 0n) + BigInt(value(row)));
  return [...totals.keys()].sort().map((currency) => ({ currency, minor: totals.get(currency) }));
}

/** Rows grouped by their `currency`, by code: [[code, rows]]. */
export function byCurrency(rows) {
  const groups = new Map();
  for (const row of rows) groups.set(row.currency, [...(groups.get(row.currency) ?? []), row]);
  return [...groups.keys()].sort().map((code) => [code, groups.get(code)]);
}

let settlementCurrencies = null;
/** The platform's settlement currencies (GET /settlement/currencies, asked once a page): [{currency, token, minor_unit}]. */
export function currencies() {
  settlementCurrencies ??= api("GET", "/settlement/currencies")
    .then((list) => {
      for (const c of list) isoDigits.set(c.currency, c.minor_unit);
      return list;
    })
    .catch((problem) => {
      settlementCurrencies = null;
      throw problem;
    });
  return settlementCurrencies;
}

/** A currency's name in the browser's language ("Euro"), or its code. */
export function currencyName(code) {
  try {
    return new Intl.DisplayNames(undefined, { type: "currency" }).of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * A `<select>` of the settlement currencies `list` (from `currencies()`), `selected` chosen (else the
 * profile's default currency when it is one of them, else the first).
 */
export function currencySelect(list, { selected, name = "currency" } = {}) {
  const codes = list.map((c) => c.currency);
  const chosen = codes.includes(selected) ? selected : codes.includes(defaultCurrency()) ? defaultCurrency() : codes[0];
  return el("select", { name, required: true },
    codes.map((code) => el("option", { value: code, selected: code === chosen }, `${code} (${currencyName(code)})`)));
}

/** The decimal symbol of the browser's locale ("." in en-US, "," in de-DE). */
const decimalSymbol = () => new Intl.NumberFormat().formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";

/**
 * What a person typed ("1234.56", "1234,56", "1 234,56", "1,234.56", "1.234,56") as minor units of
 * `currency` (BigInt), or a Problem. With both "." and "," the last one is the decimal point; with one
 * of them once, it is the decimal point unless exactly three digits follow it ("1,234" is 1234), but for
 * a currency with three decimals (KWD) the locale's own decimal symbol there is the decimal point. A
 * currency without decimals (JPY) takes whole units only.
 */
export function parseMoney(input, currency) {
  const digits = minorDigits(currency);
  const example = digits ? `1234.${"5678".slice(0, digits)}` : "1234";
  const bad = new Problem(0, "AMOUNT_INVALID", digits
    ? `Enter an amount in ${currency} like ${example} (at most ${digits} decimals).`
    : `Enter an amount in ${currency} like ${example} (whole units: ${currency} has no decimals).`);
  const text = String(input).trim().replace(/[\s\u00a0\u202f']/g, "");
  if (!/^\d[\d.,]*$/.test(text) || /[.,]$/.test(text)) throw bad;
  const last = Math.max(text.lastIndexOf("."), text.lastIndexOf(","));
  const separators = text.match(/[.,]/g) ?? [];
  const mixed = new Set(separators).size > 1;
  // one separator before exactly three digits groups them ("1,234"), unless the currency has three
  // decimals (KWD): then the browser's own decimal symbol is the decimal point ("12.500" in en-US)
  const three = separators.length === 1 && text.length - last - 1 === 3;
  const decimal = last >= 0 && (mixed || (separators.length === 1 && (!three || (digits === 3 && text[last] === decimalSymbol()))));
  const wholeText = decimal ? text.slice(0, last) : text;
  const groups = wholeText.split(/[.,]/);
  // grouping separators split the whole part into groups of three: "1.234.567", never "0.5.5"
  if (groups.length > 1 && (!/^\d{1,3}$/.test(groups[0]) || groups.slice(1).some((g) => !/^\d{3}$/.test(g)))) throw bad;
  if (decimal && /[.,]/.test(wholeText) && wholeText.match(/[.,]/g).some((c) => c === text[last])) throw bad;
  const whole = groups.join("");
  const fraction = decimal ? text.slice(last + 1) : "";
  if (fraction.length > digits || !/^\d*$/.test(fraction)) throw bad;
  const minor = BigInt(whole) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, "0") || "0");
  if (minor <= 0n) throw new Problem(0, "AMOUNT_INVALID", "Enter an amount above zero.");
  return minor;
}

// ------------------------------------------------------------------------------------------ dates

/** A calendar date of the ledger ("2027-03-31") in the browser's locale, never shifted by a time zone. */
export function day(iso) {
  if (!iso) return "—";
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** A moment (Unix seconds, or an ISO time) in the participant's time zone, with the zone's name. */
export function moment(value) {
  if (value === null || value === undefined) return "—";
  const date = typeof value === "number" || typeof value === "bigint" ? new Date(Number(value) * 1000) : new Date(value);
  const options = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
  return new Intl.DateTimeFormat(undefined, options).format(date);
}

export const percent = (bps) => `${(Number(bps) / 100).toFixed(2)} %`;

// ------------------------------------------------------------------------------------------ DOM

/** An element with attributes and children; text is always text (never parsed as HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * A table: `columns` are {label, num, cell(row)}; an empty list says `empty`. Wide tables scroll in a
 * focusable region (keyboard users can scroll it).
 */
export function table(caption, columns, rows, empty = "Nothing here yet.") {
  if (!rows.length) return el("p", { class: "muted" }, empty);
  const head = el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : null }, c.label)));
  const body = rows.map((row) => el("tr", {}, columns.map((c) => el("td", { class: c.num ? "num" : null }, c.cell(row)))));
  return el(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
    el("table", {}, el("caption", {}, caption), el("thead", {}, head), el("tbody", {}, body)),
  );
}

export const party = (ref) => (ref ? ref.name ?? ref.address : "—");
export const receivableLink = (id) => el("a", { href: `/app/receivable?id=${id}` }, `#${id}`);

export function badge(text, kind = "") {
  return el("span", { class: `badge ${kind}` }, text);
}

export function statusBadges(r) {
  return [
    badge(r.status.toLowerCase().replace(/_/g, " "), r.status.toLowerCase() === "confirmed" ? "ok" : ""),
    r.disputed ? [" ", badge("disputed", "bad")] : null,
    r.overdue ? [" ", badge("overdue", "warn")] : null,
  ];
}

/** Say something in the page's live region (`kind`: "ok" or "bad"). */
export function flash(message, kind = "ok") {
  const box = document.getElementById("flash");
  box.replaceChildren(el("div", { class: `notice ${kind}` }, message));
}

/** A Problem in words: its message, and its code for support. */
export function explain(problem) {
  if (!(problem instanceof Problem)) return `Something went wrong: ${problem?.message ?? problem}`;
  return problem.code && problem.status ? `${problem.message} (${problem.code})` : problem.message;
}

/**
 * Wire a form to an action. The submit button is disabled while it runs, and one idempotency key
 * is kept for the action until it has an answer: a double click or a retry after a lost connection
 * makes one transaction. `run(form, key)` returns a message for the live region.
 */
export function action(form, run, after) {
  let key = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const errorBox = form.querySelector(".error");
    if (button?.disabled) return;
    if (button) button.disabled = true;
    if (errorBox) errorBox.textContent = "";
    key ??= crypto.randomUUID();
    try {
      const message = await run(form, key);
      key = null;
      if (message) flash(message, "ok");
      if (after) await after();
    } catch (problem) {
      // a refusal is final for this key; a lost answer (no status, or 5xx) is retried with the same key
      if (problem instanceof Problem && problem.status >= 400 && problem.status < 500) key = null;
      if (errorBox) errorBox.textContent = explain(problem);
      else flash(explain(problem), "bad");
    } finally {
      if (button) button.disabled = false;
    }
  });
  return form;
}

export function field(label, input, hint) {
  const id = input.id || `f-${crypto.randomUUID().slice(0, 8)}`;
  input.id = id;
  const parts = [el("label", { for: id }, label), input];
  if (hint) {
    const hintId = `${id}-hint`;
    input.setAttribute("aria-describedby", hintId);
    parts.push(el("div", { id: hintId, class: "muted" }, hint));
  }
  return el("div", { class: "field" }, parts);
}

// ------------------------------------------------------------------------------------------ charts

const SVG = "http://www.w3.org/2000/svg";
/** An SVG element with attributes and children (strings become text nodes). */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children.flat(Infinity)) {
    if (child) node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/**
 * A bar chart (SVG, drawn here: no chart library) of `bars` = [{label, value (minor units of `currency`,
 * BigInt or number), title}], with the same figures as a table for screen readers and keyboard users.
 * `title` names the chart (its accessible name). One currency a chart: amounts of two are never added.
 */
export function barChart(title, bars, { valueLabel = "Amount", currency, format = (v) => money(v, currency) } = {}) {
  if (!bars.length) return el("p", { class: "muted" }, `${title}: nothing to show yet.`);
  const width = Math.max(320, bars.length * 56 + 60);
  const height = 220;
  const top = 16, bottom = 46, left = 8;
  const max = bars.reduce((m, b) => (BigInt(b.value) > m ? BigInt(b.value) : m), 1n);
  const slot = (width - left * 2) / bars.length;
  const plot = height - top - bottom;
  const rects = bars.map((b, i) => {
    const h = Number((BigInt(b.value) * BigInt(Math.round(plot * 1000))) / max) / 1000;
    const x = left + i * slot + slot * 0.15;
    return svg("g", {},
      svg("rect", { x, y: top + plot - h, width: slot * 0.7, height: Math.max(h, 1), fill: "#1f4e79" },
        svg("title", {}, document.createTextNode(`${b.label}: ${format(b.value)}`))),
      svg("text", { x: x + slot * 0.35, y: height - bottom + 14, "text-anchor": "middle" }, document.createTextNode(b.label)),
    );
  });
  const id = `chart-${crypto.randomUUID().slice(0, 8)}`;
  const picture = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-labelledby": id },
    svg("title", { id }, document.createTextNode(title)),
    svg("line", { x1: left, x2: width - left, y1: top + plot, y2: top + plot, stroke: "#6b7785" }),
    rects,
  );
  const figures = el("details", {},
    el("summary", {}, `${title}: the figures`),
    table(title, [
      { label: "Period", cell: (b) => b.label },
      { label: valueLabel, num: true, cell: (b) => format(b.value) },
    ], bars),
  );
  return el("figure", { class: "card" }, el("figcaption", {}, el("strong", {}, title)), picture, figures);
}

/** The Monday (UTC) of a calendar date's week, as "YYYY-MM-DD": the key of a week's bar. */
export function weekOf(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
}

/** Sum `value(row)` by `key(row)`, in key order: [{label, value}]. */
export function sumBy(rows, key, value, label = (k) => k) {
  const totals = new Map();
  for (const row of rows) totals.set(key(row), (totals.get(key(row)) ?? 0n) + BigInt(value(row)));
  return [...totals.keys()].sort().map((k) => ({ label: label(k), value: totals.get(k) }));
}

// ------------------------------------------------------------------------------------------ start

async function signIn(form) {
  const key = form.querySelector("#api-key");
  const who = await api("POST", "/app/session", { api_key: key.value.trim() });
  key.value = "";
  window.location.assign(who.home);
}

function start() {
  const signInForm = document.getElementById("sign-in");
  if (signInForm) {
    if (new URLSearchParams(location.search).has("ended")) flash("Your session has ended. Sign in again.", "bad");
    signInForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const box = document.getElementById("sign-in-error");
      box.textContent = "";
      try {
        await signIn(signInForm);
      } catch (problem) {
        box.textContent = explain(problem);
      }
    });
  }
  document.getElementById("sign-out")?.addEventListener("click", async () => {
    try {
      await api("POST", "/app/session/end");
    } finally {
      window.location.assign("/app/sign-in");
    }
  });
  const root = document.getElementById("page");
  const slug = document.body.dataset.page;
  if (root && slug && slug !== "none") {
    const ctx = {
      root,
      role: document.body.dataset.role,
      participantId: document.body.dataset.participant,
      params: new URLSearchParams(location.search),
    };
    // the settlement currencies' minor units first (every amount's scale); a page still renders without
    currencies()
      .catch(() => null)
      .then(() => import(`./pages/${slug}.js`))
      .then((page) => page.render(ctx))
      .catch((problem) => {
        root.replaceChildren(el("p", { class: "error", role: "alert" }, explain(problem)));
      })
      .finally(() => root.setAttribute("aria-busy", "false"));
  }
}

start();
