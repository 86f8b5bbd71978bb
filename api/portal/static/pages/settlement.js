// Settlement tokens (tokenized deposits). The operator appoints financiers as issuers with a cap; an
// issuer books a deposit by minting to a participant's account (its own, or a client's).
import { action, all, api, el, field, money, parseMoney } from "../portal.js";

function issuerForm() {
  const id = el("input", { required: true, autocomplete: "off", spellcheck: "false" });
  const cap = el("input", { required: true, inputmode: "decimal", autocomplete: "off" });
  const form = el("form", { class: "card", id: "appoint-issuer", "aria-labelledby": "appoint-h" },
    el("h2", { id: "appoint-h" }, "Appoint an issuer, or change its cap"),
    field("Financier's participant id", id),
    field("Cap", cap, "The most it may have issued at any time."),
    el("div", { class: "error", role: "alert" }),
    el("button", { type: "submit" }, "Save the cap"),
  );
  return action(form, async () => {
    const out = await api("PUT", `/settlement/issuers/${encodeURIComponent(id.value.trim())}`, { cap_minor: parseMoney(cap.value) });
    return `Issuer ${out.participant_id}: cap ${money(out.cap_minor)}, issued ${money(out.issued_minor)}.`;
  });
}

function mintForm(me, members, reload) {
  const to = el("input", { required: true, autocomplete: "off", spellcheck: "false", value: me, list: "members" });
  const options = el("datalist", { id: "members" },
    members.map((m) => el("option", { value: m.id, label: `${m.legal_name} (${m.role.replace(/_/g, " ")})` })));
  const amount = el("input", { required: true, inputmode: "decimal", autocomplete: "off" });
  const form = el("form", { class: "card", id: "mint", "aria-labelledby": "mint-h" },
    el("h2", { id: "mint-h" }, "Issue settlement tokens"),
    el("p", { class: "muted" }, "Book a deposit: the tokens go to the participant's account. Only an appointed issuer can, within its cap."),
    field("To participant id", to, "Your own id is filled in; pick another member from the list."),
    options,
    field("Amount", amount),
    el("div", { class: "error", role: "alert" }),
    el("button", { type: "submit" }, "Issue"),
  );
  return action(form, async (_, key) => {
    const minor = parseMoney(amount.value);
    await api("POST", "/settlement/mint", { to_participant_id: to.value.trim(), amount: minor }, { idempotencyKey: key });
    return `Issued ${money(minor)}.`;
  }, reload);
}

export async function render({ root, role, participantId }) {
  const reload = () => render({ root, role, participantId });
  if (role === "operator") {
    root.replaceChildren(issuerForm());
    return;
  }
  const [balance, issuer, members] = await Promise.all([
    api("GET", "/settlement/balance"),
    api("GET", `/settlement/issuers/${participantId}`).catch(() => null),
    all("/participants/directory"),
  ]);
  root.replaceChildren(
    el("p", {}, "Your balance: ", el("strong", { id: "balance" }, money(balance.settlement_balance_minor))),
    issuer && BigInt(issuer.cap_minor) > 0n
      ? el("p", {}, `You may issue up to ${money(issuer.cap_minor)}; issued so far ${money(issuer.issued_minor)}.`)
      : el("p", { class: "muted" }, "You are not an issuer of settlement tokens."),
    issuer && BigInt(issuer.cap_minor) > 0n ? mintForm(participantId, members, reload) : "",
  );
}
