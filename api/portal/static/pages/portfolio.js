// Portfolio (financier): what I bought by discounting (price, face, yield, holding, overdue exposure),
// its maturity ladder, and the credit lines I grant core enterprises. Every amount is in its own
// currency: totals and the ladder are per currency (never added across), a credit line is per currency.
import {
  Problem, action, all, api, badge, barChart, byCurrency, currencies, currencySelect, day, decimalOf, el, field, money,
  parseMoney, party, receivableLink, sumBy, table, weekOf,
} from "../portal.js";

/**
 * Basis points (a JSON number with at most 2 decimals, e.g. 612.34) as a percentage, exactly: the
 * decimal point moves two places in the number's own digits ("6.1234 %"), no floating-point division.
 */
export function bpsAsPercent(bps) {
  if (bps === null || bps === undefined) return "—";
  let text = typeof bps === "number" && !/e/i.test(String(bps)) ? String(bps) : Number(bps).toFixed(2);
  const negative = text.startsWith("-");
  if (negative) text = text.slice(1);
  let [whole, fraction = ""] = text.split(".");
  whole = whole.padStart(3, "0");
  const digits = (whole.slice(-2) + fraction).replace(/0+$/, "");
  const intPart = whole.slice(0, -2).replace(/^0+(?=\d)/, "");
  return `${negative ? "-" : ""}${intPart}.${digits.padEnd(2, "0")} %`;
}

/** A limit typed by a person in `currency`: "0" closes a line; otherwise an amount as parseMoney reads it. */
function parseLimit(text, currency) {
  if (/^\s*0+(?:[.,]0*)?\s*$/.test(text)) return 0n;
  return parseMoney(text, currency);
}

/** The portfolio's sums, one row per currency (GET /portfolio `totals`, by code). */
function totals(folio) {
  const count = new Map(byCurrency(folio.lines).map(([code, rows]) => [code, rows.length]));
  const overdue = (t) => (BigInt(t.overdue_exposure_minor) > 0n
    ? [money(t.overdue_exposure_minor, t.currency), " ", badge("overdue", "warn")]
    : money(t.overdue_exposure_minor, t.currency));
  return el("section", { class: "card", id: "totals", "aria-labelledby": "totals-h" },
    el("h2", { id: "totals-h" }, "Totals"),
    el("p", { class: "muted" }, `${folio.lines.length} receivable${folio.lines.length === 1 ? "" : "s"} bought; `
      + "each currency on its own line (amounts in two currencies are never added)."),
    table("Totals by currency", [
      { label: "Currency", cell: (t) => t.currency },
      { label: "Receivables", num: true, cell: (t) => String(count.get(t.currency) ?? 0) },
      { label: "Purchase price paid", num: true, cell: (t) => money(t.total_purchase_price_minor, t.currency) },
      { label: "Face value bought", num: true, cell: (t) => money(t.total_face_minor, t.currency) },
      { label: "Discount earned at maturity", num: true,
        cell: (t) => money(BigInt(t.total_face_minor) - BigInt(t.total_purchase_price_minor), t.currency) },
      { label: "Overdue exposure", num: true, cell: overdue },
    ], folio.totals, "Nothing bought yet."),
  );
}

function lines(folio) {
  const columns = [
    { label: "Receivable", cell: (l) => receivableLink(l.receivable_id) },
    { label: "Debtor", cell: (l) => party(l.debtor) },
    { label: "Face bought", num: true, cell: (l) => money(l.bought_minor, l.currency) },
    { label: "Price paid", num: true, cell: (l) => money(l.purchase_price_minor, l.currency) },
    { label: "Yield p.a.", num: true, cell: (l) => bpsAsPercent(l.yield_bps) },
    { label: "Holding", num: true, cell: (l) => money(l.holding_minor, l.currency) },
    { label: "Redeemed", num: true, cell: (l) => money(l.redeemed_minor, l.currency) },
    { label: "Due", cell: (l) => day(l.due_date) },
    { label: "Overdue", cell: (l) => (l.overdue ? [badge("overdue", "warn"), " ", money(l.overdue_exposure_minor, l.currency)] : "no") },
  ];
  return el("section", { "aria-labelledby": "lines-h" },
    el("h2", { id: "lines-h" }, "Receivables bought"),
    table("Receivables bought by discounting", columns, folio.lines, "You have not discounted any receivable yet."),
  );
}

function ladder(folio) {
  const held = byCurrency(folio.lines.filter((l) => BigInt(l.holding_minor) > 0n));
  const charts = held.map(([code, rows]) => barChart(
    held.length > 1 ? `Face value held in ${code} by week of due date` : "Face value held by week of due date",
    sumBy(rows, (l) => weekOf(l.due_date), (l) => l.holding_minor, (monday) => day(monday)),
    { valueLabel: `Face value held (${code})`, currency: code },
  ));
  return el("section", { "aria-labelledby": "ladder-h" },
    el("h2", { id: "ladder-h" }, "Maturity ladder"),
    el("p", { class: "muted" }, "Face value still held, by the week (from Monday) its receivables fall due; one chart per currency."),
    charts.length ? charts : barChart("Face value held by week of due date", [], {}),
  );
}

/** A core enterprise's credit, one row per settlement currency (lines in two currencies never add up). */
function lineFacts(lines, id, name) {
  const any = (f) => lines.some(f);
  return el("div", { class: "card", "aria-labelledby": "line-h" },
    el("h3", { id: "line-h" }, `Credit lines of ${name ?? id}`),
    el("p", { class: "muted" }, `Participant id ${id}.`),
    table(`Credit of ${name ?? id} by currency`, [
      { label: "Currency", cell: (l) => l.currency },
      { label: "My line", num: true, cell: (l) => money(l.my_line_minor, l.currency) },
      { label: "All financiers' lines", num: true, cell: (l) => money(l.granted_minor, l.currency) },
      { label: "Platform cap", num: true, cell: (l) => (l.platform_cap_minor === null ? "none" : money(l.platform_cap_minor, l.currency)) },
      { label: "Limit", num: true, cell: (l) => money(l.limit_minor, l.currency) },
      { label: "Used", num: true, cell: (l) => money(l.used_minor, l.currency) },
      { label: "Available", num: true, cell: (l) => money(l.available_minor, l.currency) },
      ...(any((l) => l.tx_hash) ? [{ label: "Transaction", cell: (l) => l.tx_hash ?? "—" }] : []),
    ], lines, "No settlement currency."),
  );
}

function creditLines(known, codes, initial, initialCurrency) {
  const shown = el("div", { id: "credit-line" });
  const who = el("input", { name: "participant_id", required: true, autocomplete: "off", spellcheck: "false",
    list: "core-enterprises", value: initial ?? "" });
  const options = el("datalist", { id: "core-enterprises" },
    [...known].map(([id, name]) => el("option", { value: id, label: name })));
  const currency = currencySelect(codes, { selected: initialCurrency, name: "line_currency" });
  const limit = el("input", { name: "limit", inputmode: "decimal", autocomplete: "off" });
  const hint = el("span", {});
  let looked = { id: null, lines: new Map() }; // the lines shown: core id, currency -> CreditLineOut
  const nameOf = (id) => known.get(id);
  const remember = (id) => {
    const url = new URL(location.href);
    url.searchParams.set("core", id);
    url.searchParams.set("currency", currency.value);
    history.replaceState(null, "", url);
  };
  const readId = () => {
    const id = who.value.trim();
    if (!id) throw new Problem(0, "PARTICIPANT_ID_MISSING", "Enter the core enterprise's participant id.");
    return id;
  };
  const show = () => shown.replaceChildren(lineFacts([...looked.lines.values()], looked.id, nameOf(looked.id)));
  // the limit field starts from my line in the chosen currency, as looked up; what a person typed stays
  let prefilled = "";
  const fill = () => {
    hint.textContent = `An amount in ${currency.value}, like ${decimalOf(100000000n, currency.value)}.`;
    if (limit.value.trim() !== prefilled) return;
    const mine = looked.id === who.value.trim() ? looked.lines.get(currency.value)?.my_line_minor : null;
    limit.value = prefilled = mine === null || mine === undefined ? "" : decimalOf(mine, currency.value);
  };
  const lookUp = async (id) => {
    const found = await Promise.all(codes.map((c) =>
      api("GET", `/credit-lines/${encodeURIComponent(id)}?currency=${encodeURIComponent(c.currency)}`)));
    looked = { id, lines: new Map(found.map((l) => [l.currency, l])) };
    show();
    fill();
    remember(id);
    return found;
  };
  currency.addEventListener("change", fill);
  fill();

  const lookUpForm = el("form", { class: "card", "aria-labelledby": "look-h" },
    el("h3", { id: "look-h" }, "Look up a core enterprise"),
    field("Core enterprise's participant id", who,
      known.size ? "Pick a debtor from the list or paste an id." : "They find it on their overview page."),
    options,
    el("div", { class: "error", role: "alert" }),
    el("p", {}, el("button", { type: "submit", class: "secondary" }, "Look up")),
  );
  action(lookUpForm, async () => {
    limit.value = prefilled = "";
    await lookUp(readId());
    return null;
  });

  const setForm = el("form", { class: "card", "aria-labelledby": "set-h" },
    el("h3", { id: "set-h" }, "Set my credit line"),
    el("p", { class: "muted" },
      "To the core enterprise whose participant id is entered above, in one currency: its suppliers' invoices in that "
      + "currency are tokenized against it. Your own line only: other financiers' lines stay as they are. "
      + "A line below what is used stops new tokenizations only; 0 closes it."),
    field("Currency of the line", currency),
    field("My line (limit)", limit, hint),
    el("div", { class: "error", role: "alert" }),
    el("p", {}, el("button", { type: "submit" }, "Set my line")),
  );
  action(setForm, async () => {
    const id = readId();
    const code = currency.value;
    const minor = parseLimit(limit.value, code);
    const line = await api("PUT", `/credit-lines/${encodeURIComponent(id)}`, { currency: code, limit_minor: minor });
    if (looked.id !== id) looked = { id, lines: new Map() };
    looked.lines.set(line.currency, line);
    prefilled = limit.value.trim(); // saved: another currency chosen now shows its own line
    show();
    remember(id);
    return `Your credit line in ${line.currency} to ${nameOf(id) ?? id} is now ${money(line.my_line_minor ?? minor, line.currency)} `
      + `(transaction ${line.tx_hash ?? "—"}).`;
  });

  if (initial) lookUp(initial).catch(() => {});
  return el("section", { "aria-labelledby": "credit-h" },
    el("h2", { id: "credit-h" }, "Credit lines"),
    el("p", { class: "muted" },
      "The credit you grant a core enterprise, in each settlement currency: its suppliers' invoices can be tokenized "
      + "against the line in the invoice's currency."),
    lookUpForm,
    shown,
    setForm,
  );
}

export async function render(ctx) {
  const { root, params } = ctx;
  const [folio, market, cores, codes] = await Promise.all([
    api("GET", "/portfolio"),
    all("/discountable").catch(() => []),
    all("/participants/directory?role=core_enterprise").catch(() => []),
    currencies(),
  ]);
  // core enterprises: the platform's directory, and the debtors of what I bought and of what I can buy
  const known = new Map(cores.map((c) => [c.id, c.legal_name]));
  for (const ref of [...folio.lines, ...market].map((r) => r.debtor)) {
    if (ref?.participant_id) known.set(ref.participant_id, ref.name ?? ref.address);
  }
  root.replaceChildren(
    totals(folio), lines(folio), ladder(folio), creditLines(known, codes, params.get("core"), params.get("currency")),
  );
}
