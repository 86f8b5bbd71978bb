// Overview: who I am, and where to go for what my role does.
import { api, el, moment } from "../portal.js";

const TASKS = {
  supplier: [
    ["upload", "Submit an order, delivery note and invoice to turn the invoice into a receivable."],
    ["holdings", "See what you hold, pay part of it to your own supplier, and redeem what was repaid."],
    ["offers", "See financiers' offers on your receivables and sell one for cash now."],
    ["warehouse", "Your warehouse receipts: accept a loan against one, repay it."],
  ],
  core_enterprise: [
    ["payables", "Endorse or reject invoices your suppliers tokenized, and repay at maturity."],
    ["calendar", "What you owe, week by week."],
  ],
  financier: [
    ["market", "Receivables you can discount, and your offers on them."],
    ["portfolio", "What you bought: price, face value, yield and overdue exposure."],
    ["warehouse", "Receipts you were asked to finance, your loans against them, their valuation."],
  ],
  operator: [
    ["participants", "Onboard participants; suspend, reinstate, revoke; resolve disputes."],
    ["platform", "Chain head, indexer and read-model check."],
  ],
  regulator: [
    ["receivables", "Every receivable, its provenance and disputes."],
    ["participants", "Every participant."],
  ],
  logistics: [
    ["warehouse", "Receipts you issued for goods in your warehouse, and the loans against them."],
    ["holdings", "Receivables you hold."],
  ],
  price_source: [["prices", "The latest commodity prices the ledger recorded from your observations."]],
};

export async function render({ root, role }) {
  const parts = [];
  if (role !== "operator") {
    const me = await api("GET", "/participants/me");
    parts.push(
      el("section", { class: "card", "aria-labelledby": "me-h" },
        el("h2", { id: "me-h" }, me.legal_name),
        el("dl", { class: "facts" },
          el("dt", {}, "Role"), el("dd", {}, me.role.replace(/_/g, " ")),
          el("dt", {}, "Status"), el("dd", { id: "me-status" }, me.status),
          el("dt", {}, "Participant id"), el("dd", { id: "me-id" }, me.id),
          el("dt", {}, "Registration"), el("dd", {}, me.registration_id),
          el("dt", {}, "Chain address"), el("dd", {}, me.chain_address),
          el("dt", {}, "On the platform since"), el("dd", {}, moment(me.created_at)),
        ),
      ),
    );
  }
  const tasks = TASKS[role] ?? [];
  parts.push(
    el("section", { "aria-labelledby": "tasks-h" },
      el("h2", { id: "tasks-h" }, "What you can do here"),
      el("ul", {}, tasks.map(([slug, text]) => el("li", {}, el("a", { href: `/app/${slug}` }, text)))),
    ),
  );
  root.replaceChildren(...parts);
}
