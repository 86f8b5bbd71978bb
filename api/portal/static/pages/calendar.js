// Payment calendar (core enterprise): what I owe by due date, and the cash-out week by week.
import { all, barChart, day, el, money, sumBy, table, weekOf } from "../portal.js";

export async function render({ root }) {
  const days = await all("/payables/calendar");
  const weeks = sumBy(days, (d) => weekOf(d.due_date), (d) => d.outstanding_minor, (monday) => `wk of ${day(monday)}`);
  root.replaceChildren(
    barChart("Cash out by week", weeks, { valueLabel: "Outstanding" }),
    table("Payables by due date", [
      { label: "Due", cell: (d) => day(d.due_date) },
      { label: "Receivables", num: true, cell: (d) => d.receivables },
      { label: "Outstanding", num: true, cell: (d) => money(d.outstanding_minor) },
    ], days, "Nothing endorsed is waiting to be repaid."),
  );
}
