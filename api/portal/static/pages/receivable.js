// One receivable: its facts, its documents, its provenance as a picture (the tree of splits, transfers
// and discounts, each node linked to its transaction below), the ledger's events, and what the viewer's
// role may do with it (endorse, repay, dispute).
import { Problem, action, api, badge, day, el, explain, field, moment, money, party, statusBadges, svg, table } from "../portal.js";
import { endorseForm, repayForm, signedDecisionForm } from "./payables.js";

const KIND_WORDS = { tokenized: "tokenized", transfer: "transferred", discount: "discounted" };

/** What moved units to a node: its transaction's event kind (a discount, or a plain transfer). */
function kindOfNode(node, events) {
  const found = events.find((e) => e.tx_hash === node.tx_hash && (e.kind === "discount" || e.kind === "tokenized"));
  return found ? found.kind : node.tx_hash ? "transfer" : "held";
}

/** Lay the tree out: leaves side by side, a parent above the middle of its children. */
function layout(root) {
  const placed = [];
  let next = 0;
  (function walk(node, depth) {
    const kids = node.children.map((child) => walk(child, depth + 1));
    const x = kids.length ? (kids[0].x + kids[kids.length - 1].x) / 2 : next++;
    const item = { node, depth, x, kids };
    placed.push(item);
    return item;
  })(root, 0);
  return { placed, width: next, depth: Math.max(...placed.map((p) => p.depth)) + 1 };
}

/** The tree as an SVG picture; amounts in `code`, the receivable's currency. */
function picture(tree, events, code) {
  const { placed, width, depth } = layout(tree);
  const boxW = 190, boxH = 62, gapX = 24, gapY = 46;
  const W = width * (boxW + gapX) + gapX, H = depth * (boxH + gapY) + gapY;
  const pos = (p) => ({ x: gapX + p.x * (boxW + gapX), y: gapY / 2 + p.depth * (boxH + gapY) });
  const lines = placed.flatMap((p) => p.kids.map((k) => {
    const a = pos(p), b = pos(k);
    return svg("line", { x1: a.x + boxW / 2, y1: a.y + boxH, x2: b.x + boxW / 2, y2: b.y, stroke: "#6b7785", "stroke-width": 2 });
  }));
  const boxes = placed.map((p) => {
    const { x, y } = pos(p);
    const kind = kindOfNode(p.node, events);
    const label = `${party(p.node.holder)}: ${money(p.node.amount_minor, code)} ${KIND_WORDS[kind] ?? ""}`;
    const group = svg("g", {},
      svg("rect", { x, y, width: boxW, height: boxH, rx: 6, fill: kind === "discount" ? "#eaf1f8" : "#fff", stroke: "#1f4e79", "stroke-width": 1.5 }),
      svg("text", { x: x + 8, y: y + 20, "font-weight": "600" }, party(p.node.holder).slice(0, 26)),
      svg("text", { x: x + 8, y: y + 38 }, money(p.node.amount_minor, code)),
      svg("text", { x: x + 8, y: y + 54, fill: "#4a5563" }, `${KIND_WORDS[kind] ?? kind}${p.node.block_number !== null ? ` · block ${p.node.block_number}` : ""}`),
    );
    if (!p.node.tx_hash) return group;
    return svg("a", { href: `#tx-${p.node.tx_hash}` }, svg("title", {}, `${label}: see its transaction`), group);
  });
  return svg("svg", { class: "chart", id: "provenance-picture", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "group", "aria-label": "Provenance: who received which part" }, lines, boxes);
}

/** The same tree as nested lists: what a screen reader reads. */
function outline(node, events, code) {
  const kind = kindOfNode(node, events);
  return el("li", {},
    el("span", { class: "node" }, `${party(node.holder)}: ${money(node.amount_minor, code)} `, KIND_WORDS[kind] ?? "",
      node.tx_hash ? [" (", el("a", { href: `#tx-${node.tx_hash}` }, `block ${node.block_number}`), ")"] : ""),
    node.children.length ? el("ul", {}, node.children.map((c) => outline(c, events, code))) : null,
  );
}

const MONEY_KEYS = new Set(["value", "amount", "price", "faceValue", "maxAmount", "creditUsed", "filled"]);
const ADDRESS_KEYS = ["from", "to", "holder", "maker", "debtor", "creditor"];

/** An event's details in words: parties by name where the page knows them, amounts as money in `code`. */
function describe(event, names, code) {
  const d = event.details ?? {};
  const bits = [];
  for (const key of [...ADDRESS_KEYS, ...MONEY_KEYS, "rateBps", "daysToMaturity", "reason"]) {
    const value = d[key];
    if (value === undefined || value === null) continue;
    if (ADDRESS_KEYS.includes(key)) bits.push(`${key} ${names.get(String(value).toLowerCase()) ?? value}`);
    else if (MONEY_KEYS.has(key)) bits.push(`${key} ${money(value, code)}`);
    else if (key === "rateBps") bits.push(`rate ${(Number(value) / 100).toFixed(2)} %`);
    else bits.push(`${key} ${value}`);
  }
  return bits.join(", ");
}

function namesOf(p) {
  const names = new Map();
  const add = (ref) => ref?.name && names.set(ref.address.toLowerCase(), ref.name);
  add(p.receivable.creditor);
  add(p.receivable.debtor);
  (function walk(node) {
    add(node.holder);
    node.children.forEach(walk);
  })(p.transfer_tree);
  return names;
}

async function showDocument(doc, box) {
  try {
    const found = await api("GET", `/documents/${doc.id}`);
    const text = new TextDecoder().decode(Uint8Array.from(atob(found.content_base64), (c) => c.charCodeAt(0)));
    const anchored = found.chain_bundle_hash && found.chain_bundle_hash === found.bundle_hash;
    box.replaceChildren(
      el("p", {}, anchored ? "Its bundle hash matches the one anchored on the ledger." : "Warning: its bundle hash does not match the ledger's."),
      el("pre", { class: "card", tabindex: "0", "aria-label": `${doc.name} content` }, text),
    );
  } catch (problem) {
    box.replaceChildren(el("p", { class: "error" }, explain(problem)));
  }
}

/** The receivable's green label (GET /green/labels/{rid}), or null when it has none (404). */
async function greenLabel(rid) {
  try {
    return await api("GET", `/green/labels/${rid}`);
  } catch (problem) {
    if (problem instanceof Problem && problem.status === 404) return null;
    throw problem;
  }
}

/** Fetch the signed attestation behind the label: show its document, offer the whole answer as a file. */
async function showAttestation(rid, box) {
  try {
    const found = await api("GET", `/green/labels/${rid}/attestation`);
    const bytes = Uint8Array.from(atob(found.attestation_base64), (c) => c.charCodeAt(0));
    let text = new TextDecoder().decode(bytes);
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON: shown as it is
    }
    const file = new Blob([JSON.stringify(found, null, 2)], { type: "application/json" });
    const name = `green-attestation-${rid}.json`;
    box.replaceChildren(
      el("p", {}, "SHA-256 of the attestation: ", el("code", { id: "attestation-sha256" }, found.sha256), " ",
        el("a", { id: "attestation-download", href: URL.createObjectURL(file), download: name },
          `Download ${name} (the attestation and the certifier's signature)`)),
      el("pre", { class: "card", tabindex: "0", "aria-label": "Green attestation content", id: "attestation-content" }, text),
    );
  } catch (problem) {
    box.replaceChildren(el("p", { class: "error" }, explain(problem)));
  }
}

function greenSection(rid, label) {
  const state = label.withdrawn
    ? badge(`withdrawn${label.withdrawn_by ? ` by ${party(label.withdrawn_by)}` : ""}`, "bad")
    : label.live ? badge("live", "ok") : badge("expired", "warn");
  const box = el("div", { id: "attestation-view" });
  return el("section", { class: "card", id: "green-label", "aria-labelledby": "green-h" },
    el("h2", { id: "green-h" }, "Green label"),
    el("dl", { class: "facts" },
      el("dt", {}, "Catalogue"), el("dd", { id: "green-catalogue" }, label.catalogue),
      el("dt", {}, "Category"), el("dd", { id: "green-category" }, label.category),
      el("dt", {}, "Certifier"), el("dd", { id: "green-certifier" }, party(label.certifier)),
      el("dt", {}, "Valid until"), el("dd", {}, moment(label.valid_until)),
      el("dt", {}, "CO2e benefit"), el("dd", { id: "green-benefit" },
        label.benefit_kg_co2e ? `${BigInt(label.benefit_kg_co2e).toLocaleString()} kg CO2e` : "none measured"),
      el("dt", {}, "State"), el("dd", { id: "green-state" }, state),
      el("dt", {}, "Attestation hash"), el("dd", { class: "muted" }, label.attestation_hash),
    ),
    el("button", { type: "button", class: "link", id: "attestation-show", onclick: () => showAttestation(rid, box) },
      "Show the signed attestation and download it"),
    box,
  );
}

function actions(r, role, participantId, custodial, reload) {
  const parts = [];
  const debtor = r.debtor.participant_id === participantId;
  if (role === "core_enterprise" && debtor && r.status.toLowerCase() === "pending" && !custodial) {
    parts.push(signedDecisionForm(r, reload));
  } else if (role === "core_enterprise" && debtor && r.status.toLowerCase() === "pending") {
    parts.push(endorseForm(r, true, reload), endorseForm(r, false, reload));
  }
  if (role === "core_enterprise" && debtor && r.status.toLowerCase() === "confirmed" && BigInt(r.outstanding_minor) > 0n) {
    parts.push(repayForm(r, reload));
  }
  if (((role === "core_enterprise" && debtor) || role === "regulator") && !r.disputed) {
    const reason = el("textarea", { required: true, rows: 2, maxlength: 500 });
    parts.push(action(el("form", { class: "card", "aria-label": "Dispute" },
      el("h3", {}, "Dispute"), field("Reason", reason, "Transfers and discounting stop until the operator resolves it."),
      el("div", { class: "error", role: "alert" }), el("button", { type: "submit", class: "danger" }, "Mark disputed")), async (_, key) => {
      await api("POST", `/receivables/${r.id}/disputes`, { reason: reason.value.trim() }, { idempotencyKey: key });
      return "Marked disputed.";
    }, reload));
  }
  return parts;
}

export async function render({ root, role, participantId, params }) {
  const id = params.get("id");
  if (!/^\d+$/.test(id ?? "")) {
    root.replaceChildren(el("p", { class: "error", role: "alert" }, "No receivable given: open one from a list."));
    return;
  }
  const reload = () => render({ root, role, participantId, params });
  anchors.clear();
  const [p, me, label] = await Promise.all([
    api("GET", `/receivables/${id}/provenance`),
    role === "core_enterprise" ? api("GET", "/participants/me") : null,
    greenLabel(id).catch((problem) => problem),
  ]);
  const r = p.receivable;
  document.querySelector("main h1").textContent = `Receivable #${r.id}`;
  document.title = `Receivable #${r.id} · SCF portal`;
  const docBox = el("div", { id: "document-view" });
  const names = namesOf(p);
  root.replaceChildren(
    el("section", { class: "card", "aria-labelledby": "facts-h" },
      el("h2", { id: "facts-h" }, `${money(r.face_value_minor, r.currency)} owed by ${party(r.debtor)}`),
      el("dl", { class: "facts" },
        el("dt", {}, "Currency"), el("dd", { id: "currency" }, r.currency),
        el("dt", {}, "Creditor"), el("dd", {}, party(r.creditor)),
        el("dt", {}, "Debtor"), el("dd", {}, party(r.debtor)),
        el("dt", {}, "Issued"), el("dd", {}, day(r.issue_date)),
        el("dt", {}, "Due"), el("dd", {}, day(r.due_date)),
        el("dt", {}, "Outstanding"), el("dd", { id: "outstanding" }, money(r.outstanding_minor, r.currency)),
        el("dt", {}, "Repaid"), el("dd", {}, money(r.repaid_minor, r.currency)),
        el("dt", {}, "Reduced by credit notes"), el("dd", {}, money(r.diluted_minor, r.currency)),
        el("dt", {}, "Status"), el("dd", {}, statusBadges(r)),
        el("dt", {}, "Bundle hash"), el("dd", { class: "muted" }, r.bundle_hash),
      ),
    ),
    label instanceof Error ? el("p", { class: "error" }, `Green label: ${explain(label)}`) : label ? greenSection(r.id, label) : "",
    ...actions(r, role, participantId, me?.custodial ?? true, reload),
    el("h2", { id: "documents" }, "Documents"),
    p.documents.length
      ? el("ul", {}, p.documents.map((d) => el("li", {}, `${d.kind}: ${d.name} `,
          el("button", { type: "button", class: "link", onclick: () => showDocument(d, docBox) }, `Show ${d.name}`))))
      : el("p", { class: "muted" }, "No documents are shown to you."),
    docBox,
    el("h2", {}, "Provenance"),
    el("div", { class: "table-wrap", role: "region", "aria-label": "Provenance picture", tabindex: "0" }, picture(p.transfer_tree, p.events, r.currency)),
    el("div", { class: "tree", id: "provenance-outline" }, el("ul", {}, outline(p.transfer_tree, p.events, r.currency))),
    el("h2", {}, "Ledger events"),
    table("Events of this receivable on the ledger", [
      { label: "Event", cell: (e) => e.kind },
      { label: "Block", num: true, cell: (e) => e.block_number },
      { label: "Transaction", cell: (e) => el("code", { id: anchored(e.tx_hash), tabindex: "-1" }, e.tx_hash) },
      { label: "Details", cell: (e) => describe(e, names, r.currency) },
    ], p.events),
  );
}

const anchors = new Set();
/** The anchor id of a transaction's first event row (the picture links to it); none on the others. */
function anchored(txHash) {
  if (anchors.has(txHash)) return null;
  anchors.add(txHash);
  return `tx-${txHash}`;
}
