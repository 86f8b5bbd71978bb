// Payables (core enterprise): endorse or reject what suppliers tokenized against me, and repay.
import { action, all, api, day, el, field, money, parseMoney, party, receivableLink, statusBadges, table } from "../portal.js";

function endorseForm(r, accept, reload) {
  const verb = accept ? "Endorse" : "Reject";
  const form = el("form", { class: "inline", "aria-label": `${verb} receivable ${r.id}` },
    el("button", { type: "submit", class: accept ? null : "danger" }, verb),
    el("div", { class: "error", role: "alert" }),
  );
  return action(form, async (_, key) => {
    await api("POST", `/receivables/${r.id}/endorse`, { accept }, { idempotencyKey: key });
    return accept ? `You endorsed #${r.id}: it now carries your credit.` : `You rejected #${r.id}.`;
  }, reload);
}

function repayForm(r, reload) {
  const amount = el("input", { name: "amount", required: true, inputmode: "decimal", autocomplete: "off", value: "" });
  const form = el("form", { class: "card", "aria-label": `Repay receivable ${r.id}` },
    el("h3", {}, `Repay #${r.id} (${money(r.outstanding_minor)} outstanding)`),
    field("Amount", amount, "Paid in settlement tokens from your balance."),
    el("div", { class: "error", role: "alert" }),
    el("button", { type: "submit" }, "Repay"),
  );
  return action(form, async (_, key) => {
    const minor = parseMoney(amount.value);
    await api("POST", `/receivables/${r.id}/repayments`, { amount: minor }, { idempotencyKey: key });
    return `You repaid ${money(minor)} of #${r.id}. Its holders can now redeem their shares.`;
  }, reload);
}

export async function render({ root, role, participantId }) {
  const reload = () => render({ root, role, participantId });
  const [pending, everything, balance] = await Promise.all([
    all("/payables?status=pending"),
    all("/payables?status=confirmed"),
    api("GET", "/settlement/balance").catch(() => null),
  ]);
  const forms = el("div", { id: "payable-actions" });
  const common = [
    { label: "Receivable", cell: (r) => receivableLink(r.id) },
    { label: "Supplier", cell: (r) => party(r.creditor) },
    { label: "Issued", cell: (r) => day(r.issue_date) },
    { label: "Due", cell: (r) => day(r.due_date) },
    { label: "Face value", num: true, cell: (r) => money(r.face_value_minor) },
  ];
  const waiting = table("Waiting for your endorsement", [
    ...common,
    { label: "Documents", cell: (r) => el("a", { href: `/app/receivable?id=${r.id}#documents` }, "Read the documents") },
    { label: "Decision", cell: (r) => [endorseForm(r, true, reload), " ", endorseForm(r, false, reload)] },
  ], pending, "Nothing is waiting for your endorsement.");
  const open = everything.filter((r) => BigInt(r.outstanding_minor) > 0n);
  const confirmed = table("Endorsed and not yet repaid", [
    ...common,
    { label: "Outstanding", num: true, cell: (r) => money(r.outstanding_minor) },
    { label: "Status", cell: statusBadges },
    { label: "Repay", cell: (r) => el("button", { type: "button", class: "secondary", onclick: () => {
        forms.replaceChildren(repayForm(r, reload));
        forms.querySelector("input")?.focus();
      } }, "Repay…") },
  ], open, "You owe nothing that is endorsed.");
  root.replaceChildren(
    balance ? el("p", {}, "Your settlement balance: ", el("strong", { id: "balance" }, money(balance.settlement_balance_minor))) : "",
    el("h2", {}, "To endorse"), waiting,
    el("h2", {}, "To repay"), confirmed, forms,
  );
}
