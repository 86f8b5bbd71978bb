// A participant's credit profile (GET /credit/profiles/{id}): who, as of which block, the scorecard (score,
// grade, every factor's value, points and reason, the top reasons) and the track record's counts and
// amounts. The record's amounts are minor units added across the party's currencies (a weight in the
// scorecard's ratios, never one currency's amount: docs/currencies.md), so they are plain integers here.
import { Problem, api, el, explain, moment, party, table } from "../portal.js";

const ACROSS = "minor units, all currencies";
const ROLE_WORDS = { supplier: "supplier", core_enterprise: "core enterprise", financier: "financier" };

const integer = (n) => (n === null || n === undefined ? "—" : BigInt(n).toLocaleString());
const amount = (n) => `${integer(n)} (${ACROSS})`;

/** A record's lines as a definition list: [label, value] pairs. */
function facts(id, rows) {
  return el("dl", { class: "facts", id }, rows.map(([label, value]) => [el("dt", {}, label), el("dd", {}, value)]));
}

function debtorRecord(d) {
  return facts("record-debtor", [
    ["Payables endorsed", amount(d.payables_minor)],
    ["Repaid on time", integer(d.repayments_on_time)],
    ["Repaid late", integer(d.repayments_late)],
    ["Days past due, in all", integer(d.days_past_due_total)],
    ["Days past due, worst", integer(d.days_past_due_worst)],
    ["Overdue", amount(d.overdue_minor)],
    ["Disputed", amount(d.disputed_minor)],
    ["Credit limit of its most used line", `${integer(d.credit_limit_minor)} (minor units of that line's currency)`],
    ["Used of that line", `${integer(d.credit_used_minor)} (minor units of that line's currency)`],
  ]);
}

function supplierRecord(s) {
  return facts("record-supplier", [
    ["Receivables", integer(s.receivables)],
    ["Their face value", amount(s.receivables_minor)],
    ["Sold to financiers", amount(s.financed_minor)],
    ["Receivables ever disputed", integer(s.disputed)],
    ["Reduced by credit notes", amount(s.diluted_minor)],
    ["Endorsements rejected", integer(s.rejected_endorsements)],
    ["Owed by its largest buyer", amount(s.largest_buyer_minor)],
  ]);
}

function financierRecord(f) {
  return facts("record-financier", [
    ["Purchases", integer(f.purchases)],
    ["Nominal bought", amount(f.bought_minor)],
    ["Paid", amount(f.paid_minor)],
    ["Yield p.a.", `${f.yield_bps} bp`],
    ["Overdue exposure now", amount(f.overdue_exposure_minor)],
  ]);
}

function scorecard(card) {
  return el("section", { class: "card", "aria-labelledby": "scorecard-h" },
    el("h2", { id: "scorecard-h" }, "Scorecard"),
    el("p", {},
      "Score ", el("strong", { id: "score" }, String(card.score)),
      ", grade ", el("strong", { id: "grade" }, card.grade),
      el("span", { class: "muted" }, ` (base ${card.base}, points table ${card.table_version})`)),
    table("Scorecard factors", [
      { label: "Factor", cell: (f) => f.factor },
      { label: "Value", num: true, cell: (f) => (f.value === null ? "no data" : `${integer(f.value)} ${f.unit}`) },
      { label: "Bin", cell: (f) => f.bin },
      { label: "Points", num: true, cell: (f) => String(f.points) },
      { label: "Reason code", cell: (f) => el("code", {}, f.reason_code) },
      { label: "Reason", cell: (f) => f.reason },
    ], card.factors, "No factors."),
    el("h3", { id: "top-reasons-h" }, "Top reasons"),
    card.top_reasons.length
      ? el("ol", { id: "top-reasons", "aria-labelledby": "top-reasons-h" }, card.top_reasons.map((f) =>
          el("li", {}, el("code", {}, f.reason_code), `: ${f.reason} (${f.shortfall} points below its best bin)`)))
      : el("p", { class: "muted", id: "top-reasons" }, "Nothing costs points: every factor is in its best bin."),
  );
}

export async function render({ root, participantId, params }) {
  const id = (params.get("id") ?? "").trim() || participantId;
  if (!id) {
    root.replaceChildren(el("p", { class: "error", role: "alert" },
      "No participant given: open a profile from a list (the market's grades link to them)."));
    return;
  }
  let p;
  try {
    p = await api("GET", `/credit/profiles/${encodeURIComponent(id)}`);
  } catch (problem) {
    if (!(problem instanceof Problem) || problem.status !== 404) throw problem;
    root.replaceChildren(el("p", { class: "error", role: "alert" }, explain(problem)));
    return;
  }
  const name = party(p.participant);
  document.querySelector("main h1").textContent = `Credit profile: ${name}`;
  document.title = `Credit profile: ${name} · SCF portal`;
  const record = p.debtor
    ? ["As a debtor", debtorRecord(p.debtor)]
    : p.supplier
      ? ["As a supplier", supplierRecord(p.supplier)]
      : p.financier
        ? ["As a financier", financierRecord(p.financier)]
        : null;
  root.replaceChildren(
    el("section", { class: "card", "aria-labelledby": "who-h" },
      el("h2", { id: "who-h" }, name),
      facts("profile-facts", [
        ["Role", ROLE_WORDS[p.role] ?? p.role.replace(/_/g, " ")],
        ["Participant id", p.participant.participant_id ?? "—"],
        ["As of block", el("span", { id: "as-of-block" }, String(p.as_of_block))],
        ["As of", moment(p.as_of)],
        ["On the platform", `${integer(p.tenure_days)} days`],
      ]),
    ),
    p.scorecard
      ? scorecard(p.scorecard)
      : el("p", { class: "muted", id: "no-scorecard" }, "Financiers are not scored: their record only."),
    record
      ? el("section", { class: "card", "aria-labelledby": "record-h" },
          el("h2", { id: "record-h" }, `Track record: ${record[0].toLowerCase()}`),
          el("p", { class: "muted" }, `Amounts are minor units summed across the party's currencies (${ACROSS}): `
            + "a weight in the scorecard, not an amount of one currency."),
          record[1])
      : "",
  );
}
