// Commodity prices: the latest price the ledger recorded for each commodity and unit. A price source
// submits its signed observations through the API (POST /warehouse/prices; docs/warehouse.md).
import { all, el, money, moment, table } from "../portal.js";
import { warehouseCurrency } from "./warehouse.js";

export async function render({ root }) {
  const prices = await all("/warehouse/prices");
  const columns = [
    { label: "Commodity", cell: (p) => p.commodity },
    { label: "Unit", cell: (p) => p.unit },
    { label: "Price per 1,000 units", num: true, cell: (p) => money(p.per_thousand, warehouseCurrency(p)) },
    { label: "Observed", cell: (p) => moment(p.observed_at) },
    { label: "Recorded in block", num: true, cell: (p) => String(p.block_number) },
  ];
  root.replaceChildren(
    el("p", {}, "Each price is recorded on the ledger by the gateway's verifier once your signed observation checks."),
    table("Latest recorded prices", columns, prices, "No price recorded yet."),
  );
}
