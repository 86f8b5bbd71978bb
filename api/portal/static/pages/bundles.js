// Submissions: the bundles I submitted (supplier) or owe (core enterprise); all for operator and regulator.
import { all, el, money, receivableLink, table } from "../portal.js";

export async function render({ root, role }) {
  const bundles = await all("/bundles");
  root.replaceChildren(
    table("Submitted bundles", [
      { label: "Invoice", cell: (b) => b.invoice_number },
      { label: "Amount", num: true, cell: (b) => money(b.face_value_minor, b.currency) },
      { label: "Status", cell: (b) => b.status },
      { label: "Receivable", cell: (b) => (b.receivable_id !== null ? receivableLink(b.receivable_id) : "—") },
      { label: "Documents", cell: (b) => b.documents.map((d) => d.name).join(", ") },
    ], bundles, "No bundles yet."),
    role === "supplier" ? el("p", {}, el("a", { href: "/app/upload" }, "Submit new documents")) : "",
  );
}
