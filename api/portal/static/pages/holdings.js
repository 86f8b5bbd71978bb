// Holdings: what I hold, from whom, owed by whom; pay part of it onward, redeem what was repaid.
import { action, all, api, day, el, field, money, parseMoney, party, Problem, receivableLink, statusBadges, table } from "../portal.js";

function transferForm(holding, payees, reload) {
  const to = el("select", { name: "to", required: true },
    el("option", { value: "" }, "Choose a supplier…"),
    payees.map((p) => el("option", { value: p.id }, p.legal_name)));
  const amount = el("input", { name: "amount", required: true, inputmode: "decimal", autocomplete: "off" });
  const form = el("form", { class: "card", "aria-label": `Pay part of receivable ${holding.receivable_id}` },
    el("h3", {}, `Pay part of #${holding.receivable_id} to your supplier`),
    field("Pay to", to, "Active suppliers on the platform, by name."),
    field(`Amount in ${holding.currency} (at most ${money(holding.balance_minor, holding.currency)})`, amount),
    el("div", { class: "error", role: "alert" }),
    el("button", { type: "submit" }, "Pay this part"),
  );
  return action(form, async (_, key) => {
    if (!to.value) throw new Problem(0, "RECIPIENT_REQUIRED", "Choose whom to pay.");
    const minor = parseMoney(amount.value, holding.currency);
    const tx = await api("POST", `/receivables/${holding.receivable_id}/transfers`,
      { to_participant_id: to.value, amount: minor }, { idempotencyKey: key });
    const name = to.selectedOptions[0]?.textContent ?? "them";
    return `Paid ${money(minor, holding.currency)} of #${holding.receivable_id} to ${name} (transaction ${tx.tx_hash}).`;
  }, reload);
}

function redeemButton(holding, reload) {
  const form = el("form", { class: "inline", "aria-label": `Redeem receivable ${holding.receivable_id}` },
    el("button", { type: "submit" }, `Redeem ${money(holding.redeemable_minor, holding.currency)}`),
    el("div", { class: "error", role: "alert" }),
  );
  return action(form, async (_, key) => {
    const tx = await api("POST", `/receivables/${holding.receivable_id}/redemptions`, undefined, { idempotencyKey: key });
    return `Redeemed ${money(tx.amount ?? holding.redeemable_minor, holding.currency)} from #${holding.receivable_id}.`;
  }, reload);
}

export async function render({ root, role, participantId }) {
  const reload = () => render({ root, role, participantId });
  const [rows, suppliers] = await Promise.all([all("/holdings"), all("/participants/directory?role=supplier")]);
  const payees = suppliers.filter((p) => p.id !== participantId);
  const forms = el("div", { id: "holding-actions" });
  const columns = [
    { label: "Receivable", cell: (h) => receivableLink(h.receivable_id) },
    { label: "Debtor", cell: (h) => party(h.debtor) },
    { label: "Received from", cell: (h) => party(h.received_from ?? h.creditor) },
    { label: "Due", cell: (h) => day(h.due_date) },
    { label: "Held", num: true, cell: (h) => money(h.balance_minor, h.currency) },
    { label: "Still owed to me", num: true, cell: (h) => money(h.claim_minor, h.currency) },
    { label: "Can redeem", num: true, cell: (h) => money(h.redeemable_minor, h.currency) },
    { label: "Status", cell: statusBadges },
    {
      label: "Actions",
      cell: (h) => [
        BigInt(h.redeemable_minor) > 0n ? redeemButton(h, reload) : null,
        BigInt(h.balance_minor) > 0n && !h.disputed && role !== "financier"
          ? el("button", { type: "button", class: "secondary", onclick: () => {
              forms.replaceChildren(transferForm(h, payees, reload));
              forms.querySelector("input")?.focus();
            } }, "Pay a part…")
          : null,
      ],
    },
  ];
  root.replaceChildren(table("Receivables I hold", columns, rows, "You hold no receivables yet."), forms);
}
