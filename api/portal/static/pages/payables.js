// Payables (core enterprise): endorse or reject what suppliers tokenized against me, and repay.
import {
  action, all, api, currencies, day, el, field, money, parseMoney, party, Problem, receivableLink, statusBadges, table,
} from "../portal.js";

let ethersLoaded = null;
/** ethers (npm, pinned; served by the gateway) for secp256k1 and EIP-712, loaded when first needed. */
function loadEthers() {
  ethersLoaded ??= new Promise((resolve, reject) => {
    const script = el("script", { src: "/vendor/ethers.umd.min.js" });
    script.addEventListener("load", () => resolve(window.ethers));
    script.addEventListener("error", () => reject(new Problem(0, "SIGNER_UNAVAILABLE", "The signing library could not be loaded.")));
    document.head.append(script);
  });
  return ethersLoaded;
}

/**
 * Endorse or reject with the core enterprise's own chain key (it holds its key; the gateway holds none):
 * the gateway gives the EIP-712 typed data, the key signs it here, the gateway relays the signature
 * and the contract checks signer, nonce, deadline and chain. The key is read from its field for this
 * one signature and the field is emptied; it is never stored or sent.
 */
export function signedDecisionForm(r, reload) {
  const key = el("input", { type: "password", required: true, autocomplete: "off", spellcheck: "false" });
  const choice = el("select", {}, el("option", { value: "true" }, "Endorse"), el("option", { value: "false" }, "Reject"));
  const form = el("form", { class: "card", "aria-label": `Decide on receivable ${r.id} with my key` },
    el("h3", {}, `Decide on #${r.id} with my chain key`),
    field("Decision", choice),
    field("My chain private key (0x + 64 hex digits)", key, "Used in this page for this signature only; never stored or sent."),
    el("div", { class: "error", role: "alert" }),
    el("button", { type: "submit" }, "Sign and send"),
  );
  return action(form, async (_, idem) => {
    const accept = choice.value === "true";
    const secret = key.value.trim();
    key.value = "";
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(secret)) throw new Problem(0, "KEY_FORMAT", "A chain key is 64 hexadecimal digits (0x first).");
    const request = await api("GET", `/receivables/${r.id}/endorsement-request?accept=${accept}`);
    const { EIP712Domain, ...types } = request.typed_data.types;
    const ethers = await loadEthers();
    const wallet = new ethers.Wallet(secret.startsWith("0x") ? secret : `0x${secret}`);
    const data = request.typed_data;
    const signature = await wallet.signTypedData(data.domain, types, data.message);
    await api("POST", `/receivables/${r.id}/endorsement-signature`,
      { accept, deadline: data.message.deadline, signature }, { idempotencyKey: idem });
    return accept ? `You endorsed #${r.id} with your own key.` : `You rejected #${r.id} with your own key.`;
  }, reload);
}

export function endorseForm(r, accept, reload) {
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

/**
 * Repay a receivable in its own currency: the amount is read in it, and the body names it (the gateway
 * refuses another currency than the receivable's). `balance`, when known, is the payer's in that currency.
 */
export function repayForm(r, reload, balance = null) {
  const code = r.currency;
  const amount = el("input", { name: "amount", required: true, inputmode: "decimal", autocomplete: "off", value: "" });
  const form = el("form", { class: "card", "aria-label": `Repay receivable ${r.id}` },
    el("h3", {}, `Repay #${r.id} (${money(r.outstanding_minor, code)} outstanding)`),
    field(`Amount in ${code}`, amount, balance === null
      ? `Paid in ${code} settlement tokens from your balance.`
      : `Paid in ${code} settlement tokens from your balance (${money(balance, code)}).`),
    el("div", { class: "error", role: "alert" }),
    el("button", { type: "submit" }, "Repay"),
  );
  return action(form, async (_, key) => {
    const minor = parseMoney(amount.value, code);
    await api("POST", `/receivables/${r.id}/repayments`, { amount: minor, currency: code }, { idempotencyKey: key });
    return `You repaid ${money(minor, code)} of #${r.id}. Its holders can now redeem their shares.`;
  }, reload);
}

/** My settlement balance in each of the platform's currencies: [BalanceOut]. */
async function balancesOf() {
  const list = await currencies();
  return Promise.all(list.map((c) => api("GET", `/settlement/balance?currency=${encodeURIComponent(c.currency)}`)));
}

function balanceList(balances) {
  if (!balances.length) return "";
  return el("section", { "aria-labelledby": "balances-h" },
    el("h2", { id: "balances-h" }, balances.length > 1 ? "Your settlement balances" : "Your settlement balance"),
    el("ul", { id: "balances" }, balances.map((b) => el("li", {}, `${b.currency}: `,
      el("strong", { id: `balance-${b.currency}`, dataset: { currency: b.currency } }, money(b.settlement_balance_minor, b.currency))))),
  );
}

export async function render({ root, role, participantId }) {
  const reload = () => render({ root, role, participantId });
  const [pending, everything, balances, me] = await Promise.all([
    all("/payables?status=pending"),
    all("/payables?status=confirmed"),
    balancesOf().catch(() => []),
    api("GET", "/participants/me"),
  ]);
  const balanceIn = new Map(balances.map((b) => [b.currency, b.settlement_balance_minor]));
  const forms = el("div", { id: "payable-actions" });
  const common = [
    { label: "Receivable", cell: (r) => receivableLink(r.id) },
    { label: "Supplier", cell: (r) => party(r.creditor) },
    { label: "Issued", cell: (r) => day(r.issue_date) },
    { label: "Due", cell: (r) => day(r.due_date) },
    { label: "Face value", num: true, cell: (r) => money(r.face_value_minor, r.currency) },
  ];
  const waiting = table("Waiting for your endorsement", [
    ...common,
    { label: "Documents", cell: (r) => el("a", { href: `/app/receivable?id=${r.id}#documents` }, "Read the documents") },
    {
      label: "Decision",
      cell: (r) => me.custodial
        ? [endorseForm(r, true, reload), " ", endorseForm(r, false, reload)]
        : el("button", { type: "button", class: "secondary", onclick: () => {
            forms.replaceChildren(signedDecisionForm(r, reload));
            forms.querySelector("select")?.focus();
          } }, "Decide with my key…"),
    },
  ], pending, "Nothing is waiting for your endorsement.");
  const open = everything.filter((r) => BigInt(r.outstanding_minor) > 0n);
  const confirmed = table("Endorsed and not yet repaid", [
    ...common,
    { label: "Outstanding", num: true, cell: (r) => money(r.outstanding_minor, r.currency) },
    { label: "Status", cell: statusBadges },
    { label: "Repay", cell: (r) => el("button", { type: "button", class: "secondary", onclick: () => {
        forms.replaceChildren(repayForm(r, reload, balanceIn.get(r.currency) ?? null));
        forms.querySelector("input")?.focus();
      } }, "Repay…") },
  ], open, "You owe nothing that is endorsed.");
  root.replaceChildren(
    balanceList(balances),
    el("h2", {}, "To endorse"), waiting,
    el("h2", {}, "To repay"), confirmed, forms,
  );
}
