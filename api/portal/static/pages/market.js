// Market (financier): receivables I can discount, an offer on one, and my offers (cancel the open ones).
import {
  Problem, action, all, api, badge, day, decimalOf, el, field, moment, money, parseMoney, party, percent,
  receivableLink, table,
} from "../portal.js";

const BPS = 10_000n;
const DAYS_PER_YEAR = 365n;

/**
 * An annual rate typed in percent ("6", "6.5", "6.00", "6,25 %") as integer basis points, exactly
 * (string arithmetic, no floating point): at most 2 decimals, 0 to 100 %.
 */
export function rateToBps(text) {
  const bad = new Problem(0, "RATE_INVALID", "Enter the annual rate in percent, like 6.00 (0 to 100, at most 2 decimals).");
  const match = /^(\d{1,3})(?:[.,](\d{1,2}))?$/.exec(String(text).trim().replace(/\s*%$/, ""));
  if (!match) throw bad;
  const bps = Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
  if (bps > Number(BPS)) throw bad;
  return bps;
}

const pad = (n) => String(n).padStart(2, "0");

/** A moment as the value of an `<input type="datetime-local">`, in the browser's time zone. */
export function localInput(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The value of an `<input type="datetime-local">` (the browser's time zone) as Unix seconds. */
export function unixOfLocal(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(String(text).trim());
  if (!match) throw new Problem(0, "EXPIRY_INVALID", "Enter the date and time the offer ends.");
  const [, y, mo, d, h, mi, s] = match.map(Number);
  const date = new Date(y, mo - 1, d, h, mi, s || 0);
  if (Number.isNaN(date.getTime())) throw new Problem(0, "EXPIRY_INVALID", "Enter the date and time the offer ends.");
  return Math.floor(date.getTime() / 1000);
}

export const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone ?? "your time zone";

/** The price of `amount` discounted at `rateBps` p.a. over `days` (ACT/365, rounded down), or null at 100 % or more. */
function estimate(amount, rateBps, days) {
  const factor = DAYS_PER_YEAR * BPS - BigInt(rateBps) * BigInt(days);
  return factor > 0n ? (BigInt(amount) * factor) / (DAYS_PER_YEAR * BPS) : null;
}

/** An offer's state in words (never colour alone). */
export function offerState(o) {
  const filled = BigInt(o.filled_minor);
  const part = filled > 0n && filled < BigInt(o.max_amount_minor);
  if (o.cancelled) return badge(part ? "cancelled, part filled" : "cancelled", "bad");
  if (filled >= BigInt(o.max_amount_minor)) return badge("filled", "ok");
  if (o.open) return badge(part ? "open, part filled" : "open", "ok");
  return badge(part ? "expired, part filled" : "expired", "warn");
}

export const unfilled = (o) => BigInt(o.max_amount_minor) - BigInt(o.filled_minor);

function cancelForm(offer, reload) {
  const form = el("form", { class: "inline", "aria-label": `Cancel offer ${offer.offer_id}` },
    el("button", { type: "submit", class: "secondary" }, `Cancel offer #${offer.offer_id}`),
    el("div", { class: "error", role: "alert" }),
  );
  return action(form, async (_, key) => {
    await api("POST", `/offers/${offer.offer_id}/cancel`, undefined, { idempotencyKey: key });
    return `Offer #${offer.offer_id} is cancelled: the unfilled ${money(unfilled(offer), offer.currency)} can no longer be accepted.`;
  }, reload);
}

/** "My offers": a financier's own offers, with a Cancel button for the open ones. */
export async function myOffers(reload, headingLevel = "h2") {
  const offers = await all("/offers");
  const columns = [
    { label: "Offer", cell: (o) => `#${o.offer_id}` },
    { label: "Receivable", cell: (o) => receivableLink(o.receivable_id) },
    { label: "Rate p.a.", num: true, cell: (o) => percent(o.rate_bps) },
    { label: "Up to", num: true, cell: (o) => money(o.max_amount_minor, o.currency) },
    { label: "Filled", num: true, cell: (o) => money(o.filled_minor, o.currency) },
    { label: "Valid until", cell: (o) => moment(o.expiry) },
    { label: "State", cell: offerState },
    { label: "Actions", cell: (o) => (o.open ? cancelForm(o, reload) : "—") },
  ];
  return el("section", {},
    el(headingLevel, { id: "my-offers-h" }, "My offers"),
    table("My offers", columns, offers.slice().reverse(), "You have made no offers yet."),
  );
}

function offerForm(row, reload, close) {
  const rid = row.receivable_id;
  const code = row.currency;
  const max = el("input", { name: "max_amount", required: true, inputmode: "decimal", autocomplete: "off",
    value: decimalOf(row.outstanding_minor, code) });
  const rate = el("input", { name: "rate", required: true, inputmode: "decimal", autocomplete: "off", value: "6.00" });
  const now = new Date();
  const expiry = el("input", { name: "expiry", type: "datetime-local", required: true,
    min: localInput(now), value: localInput(new Date(now.getTime() + 7 * 86_400_000)) });
  const preview = el("p", { class: "muted", "aria-live": "polite" });
  const showPreview = () => {
    try {
      const amount = parseMoney(max.value, code);
      const bps = rateToBps(rate.value);
      const price = estimate(amount, bps, row.tenor_days);
      preview.textContent = price === null
        ? `At ${percent(bps)} over ${row.tenor_days} days the discount is 100 % or more: no holder could accept.`
        : `Accepted in full today, this would pay about ${money(price, code)} for ${money(amount, code)} of face value `
          + `(${row.tenor_days} days to maturity; the price is fixed when a holder accepts).`;
    } catch {
      preview.textContent = "";
    }
  };
  max.addEventListener("input", showPreview);
  rate.addEventListener("input", showPreview);
  showPreview();
  const headingId = `offer-h-${rid}`;
  const form = el("form", { class: "card", "aria-labelledby": headingId },
    el("h3", { id: headingId }, `Make an offer on #${rid}`),
    el("p", {}, `Owed by ${party(row.debtor)}, ${money(row.outstanding_minor, code)} outstanding, due ${day(row.due_date)}.`),
    el("p", {}, `Credit: the debtor ${grade(row.debtor_grade, row.debtor_score)}, the supplier `
      + `${grade(row.creditor_grade, row.creditor_score)} (their profiles and reasons: follow the grades in the table).`),
    field(`Most face value to buy (${code})`, max, `At most the outstanding ${money(row.outstanding_minor, code)}; holders may sell you less.`),
    field("Annual discount rate (%)", rate, "Like 6.00: at most 2 decimals, from 0 to 100 (ACT/365)."),
    field("Valid until", expiry, `Date and time in ${timeZone()}; 7 days from now unless you change it.`),
    preview,
    el("div", { class: "error", role: "alert" }),
    el("div", { class: "row" },
      el("button", { type: "submit" }, "Make the offer"),
      el("button", { type: "button", class: "secondary", onclick: close }, "Close"),
    ),
  );
  return action(form, async (_, key) => {
    const amount = parseMoney(max.value, code);
    const bps = rateToBps(rate.value);
    const until = unixOfLocal(expiry.value);
    if (until <= Math.floor(Date.now() / 1000)) {
      throw new Problem(0, "EXPIRY_INVALID", "The offer must end in the future.");
    }
    const tx = await api("POST", "/offers", { receivable_id: rid, currency: code, max_amount: amount, rate_bps: bps, expiry: until },
      { idempotencyKey: key });
    return `Offer #${tx.offer_id ?? "?"} made: up to ${money(amount, code)} of #${rid} at ${percent(bps)} p.a., `
      + `open until ${moment(until)} (transaction ${tx.tx_hash}).`;
  }, reload);
}

/** A credit grade with its score ("B, 615"), or a dash when the party has no scored profile. */
function grade(letter, score) {
  return letter ? `${letter}, ${score}` : "–";
}

/** The grade as a link to the party's credit profile page (its factors and reasons), when it has one. */
export function gradeLink(ref, letter, score) {
  const text = grade(letter, score);
  if (!letter || !ref?.participant_id) return text;
  return el("a", { href: `/app/profile?id=${encodeURIComponent(ref.participant_id)}`, class: "grade",
    "aria-label": `${text}: credit profile of ${party(ref)}` }, text);
}

export async function render(ctx) {
  const { root } = ctx;
  const reload = () => render(ctx);
  const [rows, mine] = await Promise.all([all("/discountable"), myOffers(reload)]);
  const forms = el("div", { id: "offer-form" });
  const columns = [
    { label: "Receivable", cell: (r) => receivableLink(r.receivable_id) },
    { label: "Debtor", cell: (r) => party(r.debtor) },
    { label: "Debtor grade", cell: (r) => gradeLink(r.debtor, r.debtor_grade, r.debtor_score) },
    { label: "Supplier", cell: (r) => (r.creditor ? party(r.creditor) : "–") },
    { label: "Supplier grade", cell: (r) => gradeLink(r.creditor, r.creditor_grade, r.creditor_score) },
    { label: "Outstanding", num: true, cell: (r) => money(r.outstanding_minor, r.currency) },
    { label: "Due", cell: (r) => day(r.due_date) },
    { label: "Days to maturity", num: true, cell: (r) => String(r.tenor_days) },
    {
      label: "Actions",
      cell: (r) => {
        const button = el("button", { type: "button", class: "secondary",
          "aria-label": `Make an offer… on receivable #${r.receivable_id}`,
          onclick: () => {
            forms.replaceChildren(offerForm(r, reload, () => {
              forms.replaceChildren();
              button.focus();
            }));
            forms.querySelector("input")?.focus();
          } }, "Make an offer…");
        return button;
      },
    },
  ];
  root.replaceChildren(
    el("section", {},
      el("h2", { id: "market-h" }, "Receivables you can discount"),
      el("p", { class: "muted" }, "Confirmed by their debtor, not disputed, not yet due. No money moves until a holder accepts."),
      table("Receivables you can discount", columns, rows, "Nothing can be discounted right now."),
      forms,
    ),
    mine,
  );
}
