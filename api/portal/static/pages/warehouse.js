// Warehouse receipts: the receipts I own, issued, lend against or was asked to finance, the loans against
// them with their valuation now, and the latest commodity prices. An owner accepts a loan offered on its
// receipt and repays its loan; a pledgee freezes a pledged receipt. (Issuing, devices and readings are the
// API's: docs/warehouse.md.)
import { action, all, api, badge, el, money, moment, party, percent, table } from "../portal.js";

/**
 * The currency of warehouse loans, valuations and commodity prices: the settlement token the platform's
 * WarehouseReceipts contract was deployed with (chain/plan.py WAREHOUSE_CURRENCY). The API's warehouse
 * rows do not name it (yet): a row's own `currency` wins when it does.
 */
export const WAREHOUSE_CURRENCY = "CNY";
export const warehouseCurrency = (row) => row?.currency ?? WAREHOUSE_CURRENCY;
const cash = (minor, row) => money(minor, warehouseCurrency(row));

const quantity = (r) => `${BigInt(r.quantity).toLocaleString()} ${r.unit}`;

function button(label, aria, run, reload) {
  const form = el("form", { class: "inline", "aria-label": aria },
    el("button", { type: "submit" }, label),
    el("div", { class: "error", role: "alert" }),
  );
  return action(form, run, reload);
}

function receiptBadges(r) {
  return [
    r.surrendered ? badge("surrendered") : r.loan_id ? badge(`pledged (loan ${r.loan_id})`, "warn") : badge("free", "ok"),
    r.frozen ? [" ", badge("frozen", "bad")] : null,
    r.open_alerts ? [" ", badge(`${r.open_alerts} open alert${r.open_alerts > 1 ? "s" : ""}`, "bad")] : null,
  ];
}

function loanBadges(loan) {
  return [
    badge(loan.state.toLowerCase(), loan.state === "ACTIVE" ? "ok" : ""),
    loan.margin_deadline ? [" ", badge(`margin call until ${moment(loan.margin_deadline)}`, "bad")] : null,
    loan.margin_callable ? [" ", badge("margin callable", "warn")] : null,
  ];
}

export async function render({ root, role, participantId }) {
  const reload = () => render({ root, role, participantId });
  const [receipts, loans, prices] = await Promise.all([
    all("/warehouse/receipts"),
    all("/warehouse/loans"),
    all("/warehouse/prices"),
  ]);
  const mine = (ref) => ref?.participant_id === participantId;
  const owned = new Set(receipts.filter((r) => mine(r.owner)).map((r) => r.id));

  const receiptColumns = [
    { label: "Receipt", cell: (r) => `#${r.id}` },
    { label: "Commodity", cell: (r) => `${r.commodity} (${r.grade})` },
    { label: "Quantity", num: true, cell: quantity },
    { label: "Stored at", cell: (r) => `${party(r.warehouse)}, ${r.location}` },
    { label: "Owner", cell: (r) => party(r.owner) },
    { label: "Value now", num: true, cell: (r) => cash(r.valuation.value, r) },
    { label: "State", cell: receiptBadges },
    {
      label: "Actions",
      cell: (r) => (role === "financier" && r.loan_id && !r.frozen && loans.some((l) => l.id === r.loan_id && mine(l.lender))
        ? button("Freeze", `Freeze receipt ${r.id}`, async (_, key) => {
            await api("POST", `/warehouse/receipts/${r.id}/freeze`, { frozen: true }, { idempotencyKey: key });
            return `Receipt #${r.id} is frozen until its pledge ends.`;
          }, reload)
        : null),
    },
  ];
  const loanColumns = [
    { label: "Loan", cell: (l) => `#${l.id}` },
    { label: "Receipts", cell: (l) => (l.collateral.length ? l.collateral : [l.receipt_id]).map((id) => `#${id}`).join(", ") },
    { label: "Lender", cell: (l) => party(l.lender) },
    { label: "Borrower", cell: (l) => party(l.borrower) },
    { label: "Principal", num: true, cell: (l) => cash(l.principal, l) },
    { label: "Rate p.a.", num: true, cell: (l) => percent(l.rate_bps) },
    { label: "Due", num: true, cell: (l) => cash(l.due, l) },
    { label: "Outstanding", num: true, cell: (l) => cash(l.outstanding, l) },
    { label: "Collateral value", num: true, cell: (l) => cash(l.collateral_value, l) },
    { label: "Loan to value", num: true, cell: (l) => (l.ltv_bps === null ? "—" : percent(l.ltv_bps)) },
    { label: "Matures", cell: (l) => moment(l.maturity) },
    { label: "State", cell: loanBadges },
    {
      label: "Actions",
      cell: (l) => {
        if (l.state === "OFFERED" && owned.has(l.receipt_id)) {
          return button(`Accept, receive ${cash(l.principal, l)}`, `Accept loan ${l.id}`, async (_, key) => {
            await api("POST", `/warehouse/loans/${l.id}/accept`, undefined, { idempotencyKey: key });
            return `Loan #${l.id} accepted: ${cash(l.principal, l)} paid to you; receipt #${l.receipt_id} is pledged.`;
          }, reload);
        }
        if (l.state === "ACTIVE" && mine(l.borrower) && BigInt(l.outstanding) > 0n) {
          return button(`Repay ${cash(l.outstanding, l)}`, `Repay loan ${l.id}`, async (_, key) => {
            await api("POST", `/warehouse/loans/${l.id}/repay`, { amount: l.outstanding }, { idempotencyKey: key });
            return `Loan #${l.id} repaid: its pledge is released.`;
          }, reload);
        }
        return null;
      },
    },
  ];
  const priceColumns = [
    { label: "Commodity", cell: (p) => p.commodity },
    { label: "Unit", cell: (p) => p.unit },
    { label: "Price per 1,000 units", num: true, cell: (p) => cash(p.per_thousand, p) },
    { label: "Observed", cell: (p) => moment(p.observed_at) },
  ];
  root.replaceChildren(
    el("section", { "aria-labelledby": "receipts-h" },
      el("h2", { id: "receipts-h" }, "Receipts"),
      table("Warehouse receipts", receiptColumns, receipts, "No warehouse receipts of yours.")),
    el("section", { "aria-labelledby": "loans-h" },
      el("h2", { id: "loans-h" }, "Loans against receipts"),
      table("Loans against warehouse receipts", loanColumns, loans, "No loans of yours.")),
    el("section", { "aria-labelledby": "prices-h" },
      el("h2", { id: "prices-h" }, "Commodity prices"),
      table("Latest recorded prices", priceColumns, prices, "No price recorded yet.")),
  );
}
