// Settlement tokens (tokenized deposits), one per currency. The operator appoints financiers as issuers
// with a cap in a currency; an issuer books a deposit by minting, in a currency it was appointed in, to a
// participant's account (its own, or a client's). Balances, caps and issuance are shown per currency.
import { action, all, api, currencies, currencySelect, el, field, money, parseMoney, Problem, table } from "../portal.js";

function issuerForm(codes) {
  const id = el("input", { required: true, autocomplete: "off", spellcheck: "false" });
  const currency = currencySelect(codes);
  const cap = el("input", { required: true, inputmode: "decimal", autocomplete: "off" });
  const form = el("form", { class: "card", id: "appoint-issuer", "aria-labelledby": "appoint-h" },
    el("h2", { id: "appoint-h" }, "Appoint an issuer, or change its cap"),
    field("Financier's participant id", id),
    field("Currency", currency, "An issuer is appointed, with its own cap, in each currency it may issue."),
    field("Cap", cap, "The most it may have issued at any time, in the currency chosen."),
    el("div", { class: "error", role: "alert" }),
    el("button", { type: "submit" }, "Save the cap"),
  );
  return action(form, async () => {
    const code = currency.value;
    const out = await api("PUT", `/settlement/issuers/${encodeURIComponent(id.value.trim())}`,
      { currency: code, cap_minor: parseMoney(cap.value, code) });
    return `Issuer ${out.participant_id} in ${out.currency}: cap ${money(out.cap_minor, out.currency)}, `
      + `issued ${money(out.issued_minor, out.currency)}.`;
  });
}

function mintForm(me, members, issuing, reload) {
  const to = el("input", { required: true, autocomplete: "off", spellcheck: "false", value: me, list: "members" });
  const options = el("datalist", { id: "members" },
    members.map((m) => el("option", { value: m.id, label: `${m.legal_name} (${m.role.replace(/_/g, " ")})` })));
  const currency = currencySelect(issuing.map((i) => ({ currency: i.currency })));
  const amount = el("input", { required: true, inputmode: "decimal", autocomplete: "off" });
  const form = el("form", { class: "card", id: "mint", "aria-labelledby": "mint-h" },
    el("h2", { id: "mint-h" }, "Issue settlement tokens"),
    el("p", { class: "muted" },
      "Book a deposit: the tokens go to the participant's account. Only an appointed issuer can, within its cap in that currency."),
    field("To participant id", to, "Your own id is filled in; pick another member from the list."),
    options,
    field("Currency", currency, "The currencies you are an issuer in."),
    field("Amount", amount),
    el("div", { class: "error", role: "alert" }),
    el("button", { type: "submit" }, "Issue"),
  );
  return action(form, async (_, key) => {
    const code = currency.value;
    if (!code) throw new Problem(0, "CURRENCY_REQUIRED", "Choose the currency to issue.");
    const minor = parseMoney(amount.value, code);
    await api("POST", "/settlement/mint", { to_participant_id: to.value.trim(), currency: code, amount: minor },
      { idempotencyKey: key });
    return `Issued ${money(minor, code)}.`;
  }, reload);
}

/** My balance, and my issuing cap and issuance (null: not an issuer), in each settlement currency. */
async function accounts(codes, participantId) {
  return Promise.all(codes.map(async ({ currency }) => {
    const q = `currency=${encodeURIComponent(currency)}`;
    const [balance, issuer] = await Promise.all([
      api("GET", `/settlement/balance?${q}`),
      api("GET", `/settlement/issuers/${encodeURIComponent(participantId)}?${q}`).catch(() => null),
    ]);
    return { currency, balance: balance.settlement_balance_minor, issuer };
  }));
}

export async function render({ root, role, participantId }) {
  const reload = () => render({ root, role, participantId });
  const codes = await currencies();
  if (role === "operator") {
    root.replaceChildren(issuerForm(codes));
    return;
  }
  const [rows, members] = await Promise.all([accounts(codes, participantId), all("/participants/directory")]);
  const issuing = rows.filter((r) => r.issuer && BigInt(r.issuer.cap_minor) > 0n);
  const capOf = (r) => (r.issuer && BigInt(r.issuer.cap_minor) > 0n ? money(r.issuer.cap_minor, r.currency) : "not an issuer");
  root.replaceChildren(
    table("Your settlement accounts by currency", [
      { label: "Currency", cell: (r) => r.currency },
      { label: "Your balance", num: true,
        cell: (r) => el("strong", { id: `balance-${r.currency}`, dataset: { currency: r.currency } }, money(r.balance, r.currency)) },
      { label: "Your issuing cap", num: true, cell: capOf },
      { label: "Issued so far", num: true, cell: (r) => (r.issuer ? money(r.issuer.issued_minor, r.currency) : "—") },
    ], rows, "The platform has no settlement currency."),
    issuing.length
      ? el("p", {}, `You may issue ${issuing.map((r) => `up to ${money(r.issuer.cap_minor, r.currency)} in ${r.currency}`).join(", ")}.`)
      : el("p", { class: "muted" }, "You are not an issuer of settlement tokens."),
    issuing.length ? mintForm(participantId, members, issuing, reload) : "",
  );
}
