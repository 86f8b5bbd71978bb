// Receivables: every receivable on the platform, the volume tokenized per week, and the disputes;
// the operator resolves a dispute (lift the freeze, or a credit note). The regulator only reads.
import {
  Problem, action, all, api, barChart, byCurrency, day, el, field, money, parseMoney, party, receivableLink, statusBadges,
  sumBy, table, totalsByCurrency, weekOf,
} from "../portal.js";

// statusBadges() nests its arrays one level deeper than el() flattens: spread it into a span
const badges = (r) => el("span", {}, ...statusBadges(r));

function resolutionForm(r, reload) {
  const id = `resolve-${r.id}`;
  const choice = el("select", { name: "action", id: `${id}-action` },
    el("option", { value: "lift" }, "Lift the dispute"),
    el("option", { value: "credit_note" }, "Credit note"),
  );
  const amount = el("input", { name: "amount", id: `${id}-amount`, inputmode: "decimal", autocomplete: "off" });
  const amountField = field(`Credit note amount in ${r.currency} (at most ${money(r.outstanding_minor, r.currency)})`, amount,
    "Taken off the outstanding amount, shared among the holders in proportion to what they hold.");
  amountField.hidden = true;
  choice.addEventListener("change", () => {
    amountField.hidden = choice.value !== "credit_note";
    amount.required = choice.value === "credit_note";
  });
  const form = el("form", { "aria-label": `Resolve the dispute on receivable ${r.id}` },
    field("Resolution", choice,
      "Lift: the freeze ends and nothing else changes. Credit note: what is owed is reduced by an amount, "
      + "and the freeze ends too."),
    amountField,
    el("div", { class: "error", role: "alert" }),
    el("button", { type: "submit" }, `Resolve the dispute on #${r.id}`),
  );
  return action(form, async (_, key) => {
    const body = { action: choice.value };
    if (choice.value === "credit_note") {
      const minor = parseMoney(amount.value, r.currency);
      if (minor > BigInt(r.outstanding_minor)) {
        throw new Problem(0, "AMOUNT_TOO_LARGE", `The credit note can be at most ${money(r.outstanding_minor, r.currency)}.`);
      }
      body.amount = minor;
    }
    const tx = await api("POST", `/receivables/${r.id}/resolution`, body, { idempotencyKey: key });
    const what = body.action === "lift"
      ? "The dispute was lifted"
      : `A credit note of ${money(body.amount, r.currency)} was applied and the dispute closed`;
    return `${what} on #${r.id} (transaction ${tx.tx_hash}, block ${tx.block_number}).`;
  }, reload);
}

/** The latest "dispute" event of a receivable (who raised it, in which block), or null. */
async function raised(r) {
  try {
    const history = await api("GET", `/receivables/${r.id}/provenance`);
    return history.events.filter((e) => e.kind === "dispute").at(-1) ?? null;
  } catch {
    return null; // the dispute is shown anyway, without its origin
  }
}

function raisedBy(r, event) {
  const by = String(event?.details?.by ?? "").toLowerCase();
  if (!by) return "—";
  for (const ref of [r.debtor, r.creditor]) if (ref.address.toLowerCase() === by) return party(ref);
  return el("code", { class: "wrap-anywhere" }, event.details.by);
}

async function disputes(rows, operator, reload) {
  const disputed = rows.filter((r) => r.disputed);
  const parts = [
    el("h2", { id: "disputes-h" }, "Disputes"),
    el("p", { class: "muted" },
      "A disputed receivable is frozen: it can neither be transferred nor discounted until the operator resolves it."),
  ];
  if (!disputed.length) {
    parts.push(el("p", { class: "muted" }, "No receivable is disputed."));
    return el("section", { "aria-labelledby": "disputes-h" }, parts);
  }
  const origins = await Promise.all(disputed.map(raised));
  disputed.forEach((r, i) => {
    const headingId = `dispute-${r.id}-h`;
    const event = origins[i];
    parts.push(
      el("article", { class: "card", "aria-labelledby": headingId },
        el("h3", { id: headingId }, "Receivable ", receivableLink(r.id), `: ${party(r.creditor)} owed by ${party(r.debtor)}`),
        el("dl", { class: "facts" },
          el("dt", {}, "Status"), el("dd", {}, badges(r)),
          el("dt", {}, "Face value"), el("dd", {}, money(r.face_value_minor, r.currency)),
          el("dt", {}, "Outstanding"), el("dd", {}, money(r.outstanding_minor, r.currency)),
          el("dt", {}, "Due"), el("dd", {}, day(r.due_date)),
          el("dt", {}, "Raised by"), el("dd", {}, raisedBy(r, event)),
          el("dt", {}, "Raised in block"), el("dd", {}, event ? String(event.block_number) : "—"),
        ),
        operator ? resolutionForm(r, reload) : null,
      ),
    );
  });
  return el("section", { "aria-labelledby": "disputes-h" }, parts);
}

export async function render({ root, role }) {
  const operator = role === "operator";
  const reload = () => render({ root, role });
  const rows = await all("/receivables");
  const columns = [
    { label: "Receivable", cell: (r) => receivableLink(r.id) },
    { label: "Creditor", cell: (r) => party(r.creditor) },
    { label: "Debtor", cell: (r) => party(r.debtor) },
    { label: "Face value", num: true, cell: (r) => money(r.face_value_minor, r.currency) },
    { label: "Outstanding", num: true, cell: (r) => money(r.outstanding_minor, r.currency) },
    { label: "Issued", cell: (r) => day(r.issue_date) },
    { label: "Due", cell: (r) => day(r.due_date) },
    { label: "Status", cell: badges },
  ];
  // sums per currency: amounts of two currencies are never added
  const face = totalsByCurrency(rows, (r) => r.face_value_minor);
  const outstanding = new Map(totalsByCurrency(rows, (r) => r.outstanding_minor).map((t) => [t.currency, t.minor]));
  const sums = face.map((t) => `${money(t.minor, t.currency)} face value tokenized, ${money(outstanding.get(t.currency), t.currency)} outstanding`);
  const groups = byCurrency(rows);
  const charts = groups.map(([code, of]) => barChart(
    `Face value tokenized in ${code} per week (by issue date, weeks from Monday)`,
    sumBy(of, (r) => weekOf(r.issue_date), (r) => r.face_value_minor, (monday) => day(monday)),
    { valueLabel: `Face value tokenized (${code})`, currency: code },
  ));
  root.replaceChildren(
    el("section", { "aria-labelledby": "all-h" },
      el("h2", { id: "all-h" }, "All receivables"),
      rows.length
        ? el("p", { class: "muted" },
            `${rows.length} receivable${rows.length === 1 ? "" : "s"}: ${sums.join("; ")}; `
            + `${rows.filter((r) => r.disputed).length} disputed, ${rows.filter((r) => r.overdue).length} overdue.`)
        : null,
      table(`Receivables (${rows.length})`, columns, rows, "No receivable has been tokenized yet."),
    ),
    el("section", { "aria-labelledby": "volumes-h" },
      el("h2", { id: "volumes-h" }, "Volumes over time"),
      charts.length ? charts : barChart("Face value tokenized per week (by issue date, weeks from Monday)", [], {}),
    ),
    await disputes(rows, operator, reload),
  );
}
