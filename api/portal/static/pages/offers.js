// Offers. A financier: its own offers (as on the market page). A supplier: the offers on receivables it
// holds; it asks the price of selling an amount to an open one, and only then may accept it.
import {
  Problem, action, all, api, decimalOf, el, explain, field, moment, money, parseMoney, party, percent, receivableLink, table,
} from "../portal.js";
import { myOffers, offerState, unfilled } from "./market.js";

const minOf = (a, b) => (a < b ? a : b);

/** A quote's figures, in `code`: the currency of the offer's receivable (a quote does not name it). */
function quoteFacts(q, code) {
  return el("dl", { class: "facts" },
    el("dt", {}, "Face value sold"), el("dd", {}, money(q.amount_minor, code)),
    q.claim_minor !== q.amount_minor
      ? [el("dt", {}, "Still owed on it"), el("dd", {}, `${money(q.claim_minor, code)} (after repayments and credit notes)`)]
      : null,
    el("dt", {}, "Price paid to you"), el("dd", {}, el("strong", {}, money(q.price_minor, code))),
    el("dt", {}, "Discount"), el("dd", {}, money(q.discount_minor, code)),
    el("dt", {}, "Days to maturity"), el("dd", {}, String(q.days_to_maturity)),
    el("dt", {}, "Rate p.a."), el("dd", {}, percent(q.rate_bps)),
    el("dt", {}, "As of"), el("dd", {}, moment(q.as_of)),
  );
}

function acceptForm(offer, held, reload) {
  const id = offer.offer_id;
  const code = offer.currency;
  const most = minOf(unfilled(offer), held);
  const amount = el("input", { name: "amount", required: true, inputmode: "decimal", autocomplete: "off",
    value: decimalOf(most, code) });
  const quoteBox = el("div", { class: "quote", "aria-live": "polite" },
    el("p", { class: "muted" }, "Show the price before you accept."));
  const errorBox = el("div", { class: "error", role: "alert" });
  const accept = el("button", { type: "submit", disabled: true }, "Accept and sell");
  let quote = null; // the last price shown: {amount (BigInt), price (BigInt)}
  let asked = 0; // answers to an earlier question (the amount changed since) are dropped
  let asking = false;

  const forget = (why) => {
    quote = null;
    asked += 1;
    accept.disabled = true;
    accept.textContent = "Accept and sell";
    quoteBox.replaceChildren(el("p", { class: "muted" }, why));
  };

  const readAmount = () => {
    const minor = parseMoney(amount.value, code);
    if (minor > most) throw new Problem(0, "AMOUNT_TOO_LARGE", `You can sell at most ${money(most, code)} to this offer.`);
    return minor;
  };

  const show = async () => {
    errorBox.textContent = "";
    const question = ++asked;
    asking = true;
    try {
      const minor = readAmount();
      quoteBox.replaceChildren(el("p", { class: "muted" }, "Asking the price…"));
      const q = await api("GET", `/offers/${id}/quote?amount=${minor}`);
      if (question !== asked) return;
      quote = { amount: minor, price: BigInt(q.price_minor) };
      quoteBox.replaceChildren(el("div", { class: "card" }, quoteFacts(q, code)));
      accept.textContent = `Accept and sell for ${money(q.price_minor, code)}`;
      accept.disabled = false;
    } catch (problem) {
      if (question !== asked) return;
      forget("No price: see the message below.");
      errorBox.textContent = explain(problem);
    } finally {
      if (question === asked) asking = false;
    }
  };
  // the accept button is enabled only while the price shown is for the amount typed
  const sync = () => {
    let typed = null;
    try {
      typed = parseMoney(amount.value, code);
    } catch {
      typed = null;
    }
    accept.disabled = !(quote && typed === quote.amount);
  };

  amount.addEventListener("input", () => {
    const shown = quote || asking;
    asked += 1; // an answer still on its way is for the amount before
    asking = false;
    if (shown) forget("The amount changed: show the price again before you accept.");
  });
  amount.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      show();
    }
  });

  const headingId = `accept-h-${id}`;
  const form = el("form", { class: "card", "aria-labelledby": headingId },
    el("h3", { id: headingId }, `Offer #${id} on receivable #${offer.receivable_id}`),
    el("p", {},
      `${party(offer.maker)} buys up to ${money(unfilled(offer), code)} more at ${percent(offer.rate_bps)} p.a., until ${moment(offer.expiry)}. `,
      `You hold ${money(held, code)} of `, receivableLink(offer.receivable_id), "."),
    field(`Face value to sell in ${code} (at most ${money(most, code)})`, amount),
    el("p", {}, el("button", { type: "button", class: "secondary", onclick: show }, "Show the price")),
    quoteBox,
    errorBox,
    el("p", {}, accept),
  );
  return action(form, async (_, key) => {
    const quoted = quote?.price;
    try {
      const minor = parseMoney(amount.value, code);
      if (!quote || quote.amount !== minor) {
        throw new Problem(0, "QUOTE_NEEDED", "Show the price for this amount before you accept.");
      }
      // the price shown is the floor: the ledger refuses to pay less (a repayment or credit note in between)
      const tx = await api("POST", `/offers/${id}/accept`, { amount: minor, min_price: quoted }, { idempotencyKey: key });
      const paid = tx.amount === null || tx.amount === undefined ? null : BigInt(tx.amount);
      const moved = paid !== null && paid !== quoted ? ` (the price shown was ${money(quoted, code)}: the chain's day moved on, in your favour)` : "";
      return `Sold ${money(minor, code)} of #${offer.receivable_id} to ${party(offer.maker)} for ${money(paid, code)}${moved}. `
        + `Transaction ${tx.tx_hash}.`;
    } catch (problem) {
      // a refusal: the offer or the price may have changed, so a new price is needed (after the form is enabled again)
      // (action() enables the button again when it is done: set it right just after)
      if (problem instanceof Problem && problem.status >= 400 && problem.status < 500) {
        setTimeout(() => forget("Nothing was sold. Show the price again if you still want to sell."), 0);
      } else {
        setTimeout(sync, 0);
      }
      throw problem;
    }
  }, reload);
}

async function holderView(root, reload) {
  const [offers, holdings] = await Promise.all([all("/offers"), all("/holdings")]);
  const held = new Map(holdings.map((h) => [h.receivable_id, BigInt(h.balance_minor)]));
  const columns = [
    { label: "Offer", cell: (o) => `#${o.offer_id}` },
    { label: "Receivable", cell: (o) => receivableLink(o.receivable_id) },
    { label: "Financier", cell: (o) => party(o.maker) },
    { label: "Rate p.a.", num: true, cell: (o) => percent(o.rate_bps) },
    { label: "Up to", num: true, cell: (o) => money(o.max_amount_minor, o.currency) },
    { label: "Filled", num: true, cell: (o) => money(o.filled_minor, o.currency) },
    { label: "Valid until", cell: (o) => moment(o.expiry) },
    { label: "State", cell: offerState },
  ];
  const open = offers.filter((o) => o.open && unfilled(o) > 0n && (held.get(o.receivable_id) ?? 0n) > 0n);
  root.replaceChildren(
    el("section", {},
      el("h2", { id: "offers-h" }, "Offers on receivables you hold"),
      table("Offers on receivables you hold", columns, offers.slice().reverse(), "No financier has made an offer on what you hold yet."),
    ),
    el("section", { "aria-labelledby": "sell-h" },
      el("h2", { id: "sell-h" }, "Sell to an open offer"),
      el("p", { class: "muted" },
        "Ask the price for the amount you want to sell, then accept: the price is paid to you and the receivable's units go to the financier in one transaction."),
      open.length
        ? open.map((o) => acceptForm(o, held.get(o.receivable_id), reload))
        : el("p", { class: "muted" }, "No open offer right now."),
    ),
  );
}

export async function render(ctx) {
  const { root, role } = ctx;
  const reload = () => render(ctx);
  if (role === "financier") {
    root.replaceChildren(
      await myOffers(reload),
      el("p", {}, el("a", { href: "/app/market" }, "Make an offer on the market page.")),
    );
    return;
  }
  await holderView(root, reload);
}
