// Portfolio (financier): what I bought by discounting (price, face, yield, holding, overdue exposure),
// its maturity ladder, and the credit lines I grant core enterprises.
import {
  Problem, action, all, api, badge, barChart, day, decimalOf, el, field, money, parseMoney, party, receivableLink,
  sumBy, table, weekOf,
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

/** A limit typed by a person: "0" closes a line; otherwise an amount as parseMoney reads it. */
function parseLimit(text) {
  if (/^\s*0+(?:[.,]0*)?\s*$/.test(text)) return 0n;
  return parseMoney(text);
}

function totals(folio) {
  return el("section", { class: "card", "aria-labelledby": "totals-h" },
    el("h2", { id: "totals-h" }, "Totals"),
    el("dl", { class: "facts" },
      el("dt", {}, "Purchase price paid"), el("dd", {}, money(folio.total_purchase_price_minor)),
      el("dt", {}, "Face value bought"), el("dd", {}, money(folio.total_face_minor)),
      el("dt", {}, "Discount earned at maturity"),
      el("dd", {}, money(BigInt(folio.total_face_minor) - BigInt(folio.total_purchase_price_minor))),
      el("dt", {}, "Overdue exposure"),
      el("dd", {}, BigInt(folio.overdue_exposure_minor) > 0n
        ? [money(folio.overdue_exposure_minor), " ", badge("overdue", "warn")]
        : money(folio.overdue_exposure_minor)),
      el("dt", {}, "Receivables"), el("dd", {}, String(folio.lines.length)),
    ),
  );
}

function lines(folio) {
  const columns = [
    { label: "Receivable", cell: (l) => receivableLink(l.receivable_id) },
    { label: "Debtor", cell: (l) => party(l.debtor) },
    { label: "Face bought", num: true, cell: (l) => money(l.bought_minor) },
    { label: "Price paid", num: true, cell: (l) => money(l.purchase_price_minor) },
    { label: "Yield p.a.", num: true, cell: (l) => bpsAsPercent(l.yield_bps) },
    { label: "Holding", num: true, cell: (l) => money(l.holding_minor) },
    { label: "Redeemed", num: true, cell: (l) => money(l.redeemed_minor) },
    { label: "Due", cell: (l) => day(l.due_date) },
    { label: "Overdue", cell: (l) => (l.overdue ? [badge("overdue", "warn"), " ", money(l.overdue_exposure_minor)] : "no") },
  ];
  return el("section", { "aria-labelledby": "lines-h" },
    el("h2", { id: "lines-h" }, "Receivables bought"),
    table("Receivables bought by discounting", columns, folio.lines, "You have not discounted any receivable yet."),
  );
}

function ladder(folio) {
  const held = folio.lines.filter((l) => BigInt(l.holding_minor) > 0n);
  const bars = sumBy(held, (l) => weekOf(l.due_date), (l) => l.holding_minor, (monday) => day(monday));
  return el("section", { "aria-labelledby": "ladder-h" },
    el("h2", { id: "ladder-h" }, "Maturity ladder"),
    el("p", { class: "muted" }, "Face value still held, by the week (from Monday) its receivables fall due."),
    barChart("Face value held by week of due date", bars, { valueLabel: "Face value held" }),
  );
}

function lineFacts(line, name) {
  return el("div", { class: "card", "aria-labelledby": "line-h" },
    el("h3", { id: "line-h" }, `Credit line of ${name ?? line.participant_id}`),
    el("dl", { class: "facts" },
      el("dt", {}, "Participant id"), el("dd", {}, line.participant_id),
      el("dt", {}, "My line"), el("dd", {}, money(line.my_line_minor)),
      el("dt", {}, "All financiers' lines"), el("dd", {}, money(line.granted_minor)),
      el("dt", {}, "Platform cap"), el("dd", {}, line.platform_cap_minor === null ? "none" : money(line.platform_cap_minor)),
      el("dt", {}, "Limit"), el("dd", {}, money(line.limit_minor)),
      el("dt", {}, "Used"), el("dd", {}, money(line.used_minor)),
      el("dt", {}, "Available"), el("dd", {}, money(line.available_minor)),
      line.tx_hash ? [el("dt", {}, "Transaction"), el("dd", {}, line.tx_hash)] : null,
    ),
  );
}

function creditLines(known, initial) {
  const shown = el("div", { id: "credit-line" });
  const who = el("input", { name: "participant_id", required: true, autocomplete: "off", spellcheck: "false",
    list: "core-enterprises", value: initial ?? "" });
  const options = el("datalist", { id: "core-enterprises" },
    [...known].map(([id, name]) => el("option", { value: id, label: name })));
  const limit = el("input", { name: "limit", inputmode: "decimal", autocomplete: "off" });
  const nameOf = (id) => known.get(id);
  const remember = (id) => {
    const url = new URL(location.href);
    url.searchParams.set("core", id);
    history.replaceState(null, "", url);
  };
  const readId = () => {
    const id = who.value.trim();
    if (!id) throw new Problem(0, "PARTICIPANT_ID_MISSING", "Enter the core enterprise's participant id.");
    return id;
  };
  const lookUp = async (id) => {
    const line = await api("GET", `/credit-lines/${encodeURIComponent(id)}`);
    shown.replaceChildren(lineFacts(line, nameOf(id)));
    if (line.my_line_minor !== null && line.my_line_minor !== undefined && !limit.value) {
      limit.value = decimalOf(line.my_line_minor);
    }
    remember(id);
    return line;
  };

  const lookUpForm = el("form", { class: "card", "aria-labelledby": "look-h" },
    el("h3", { id: "look-h" }, "Look up a core enterprise"),
    field("Core enterprise's participant id", who,
      known.size ? "Pick a debtor from the list or paste an id." : "They find it on their overview page."),
    options,
    el("div", { class: "error", role: "alert" }),
    el("p", {}, el("button", { type: "submit", class: "secondary" }, "Look up")),
  );
  action(lookUpForm, async () => {
    limit.value = "";
    await lookUp(readId());
    return null;
  });

  const setForm = el("form", { class: "card", "aria-labelledby": "set-h" },
    el("h3", { id: "set-h" }, "Set my credit line"),
    el("p", { class: "muted" },
      "To the core enterprise whose participant id is entered above. Your own line only: other financiers' lines stay as they are. "
      + "A line below what is used stops new tokenizations only; 0 closes it."),
    field("My line (limit)", limit, "An amount like 1000000.00."),
    el("div", { class: "error", role: "alert" }),
    el("p", {}, el("button", { type: "submit" }, "Set my line")),
  );
  action(setForm, async () => {
    const id = readId();
    const minor = parseLimit(limit.value);
    const line = await api("PUT", `/credit-lines/${encodeURIComponent(id)}`, { limit_minor: minor });
    shown.replaceChildren(lineFacts(line, nameOf(id)));
    remember(id);
    return `Your credit line to ${nameOf(id) ?? id} is now ${money(line.my_line_minor ?? minor)} (transaction ${line.tx_hash ?? "—"}).`;
  });

  if (initial) lookUp(initial).catch(() => {});
  return el("section", { "aria-labelledby": "credit-h" },
    el("h2", { id: "credit-h" }, "Credit lines"),
    el("p", { class: "muted" },
      "The credit you grant a core enterprise: its suppliers' invoices can be tokenized against it."),
    lookUpForm,
    shown,
    setForm,
  );
}

export async function render(ctx) {
  const { root, params } = ctx;
  const [folio, market, cores] = await Promise.all([
    api("GET", "/portfolio"),
    all("/discountable").catch(() => []),
    all("/participants/directory?role=core_enterprise").catch(() => []),
  ]);
  // core enterprises: the platform's directory, and the debtors of what I bought and of what I can buy
  const known = new Map(cores.map((c) => [c.id, c.legal_name]));
  for (const ref of [...folio.lines, ...market].map((r) => r.debtor)) {
    if (ref?.participant_id) known.set(ref.participant_id, ref.name ?? ref.address);
  }
  root.replaceChildren(totals(folio), lines(folio), ladder(folio), creditLines(known, params.get("core")));
}
