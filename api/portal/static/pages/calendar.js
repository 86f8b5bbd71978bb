// Payment calendar (core enterprise): what I owe by due date, and the cash-out week by week, in each
// currency on its own (a due date with payables in two currencies has a row for each).
import { all, barChart, byCurrency, day, el, money, sumBy, table, totalsByCurrency, weekOf } from "../portal.js";

export async function render({ root }) {
  const days = await all("/payables/calendar");
  const groups = byCurrency(days);
  const charts = groups.map(([code, rows]) => barChart(
    groups.length > 1 ? `Cash out by week in ${code}` : "Cash out by week",
    sumBy(rows, (d) => weekOf(d.due_date), (d) => d.outstanding_minor, (monday) => `wk of ${day(monday)}`),
    { valueLabel: `Outstanding (${code})`, currency: code },
  ));
  const totals = totalsByCurrency(days, (d) => d.outstanding_minor);
  root.replaceChildren(
    totals.length
      ? el("p", { id: "calendar-totals" }, "Outstanding in all: ",
          totals.map((t, i) => [i ? ", " : "", el("strong", { dataset: { currency: t.currency } }, money(t.minor, t.currency))]))
      : "",
    ...(charts.length ? charts : [barChart("Cash out by week", [], {})]),
    table("Payables by due date", [
      { label: "Due", cell: (d) => day(d.due_date) },
      { label: "Currency", cell: (d) => d.currency },
      { label: "Receivables", num: true, cell: (d) => d.receivables },
      { label: "Outstanding", num: true, cell: (d) => money(d.outstanding_minor, d.currency) },
    ], days, "Nothing endorsed is waiting to be repaid."),
  );
}
