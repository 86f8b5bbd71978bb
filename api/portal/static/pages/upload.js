// Submit documents: drop the order, delivery note and invoice (UBL 2.1 XML), with signatures made by
// the issuers' ERPs (.jws files) or made here with the supplier's own key (WebCrypto: the key is read
// from its file into memory for this page only, never stored). Check first (a dry run: every reason in
// words, the failing document marked), then tokenize.
import { action, api, day, el, explain, field, money, Problem, receivableLink } from "../portal.js";

const KINDS = ["Order", "DespatchAdvice", "ReceiptAdvice", "Invoice", "CreditNote"];
const KIND_NAMES = {
  Order: "order",
  DespatchAdvice: "delivery note (despatch advice)",
  ReceiptAdvice: "receipt advice",
  Invoice: "invoice",
  CreditNote: "credit note",
};

const b64url = (bytes) => base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

function pemBody(pem, label) {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`).exec(pem);
  if (!match) return null;
  return match[1].replace(/\s+/g, "");
}

/** An invoice's face value in its own currency (the summary names it once the invoice could be read). */
function faceOf(summary) {
  if (summary.face_value_minor === null || summary.face_value_minor === undefined) return "amount unknown";
  return summary.currency
    ? money(summary.face_value_minor, summary.currency)
    : `${summary.face_value_minor} minor units (currency unknown)`;
}

/** The UBL kind of an XML document (its root element's name), or null. */
function kindOf(bytes) {
  const doc = new DOMParser().parseFromString(new TextDecoder().decode(bytes), "application/xml");
  if (doc.getElementsByTagName("parsererror").length) return null;
  const name = doc.documentElement?.localName;
  return KINDS.includes(name) ? name : null;
}

/**
 * A detached JWS (ES256, unencoded payload, RFC 7797) over the document's exact bytes, with the same
 * protected header the platform's signer writes (domain/identity/signing.py): the certificate (x5c),
 * the signing time, the document kind and its SHA-256.
 */
async function signDetached(bytes, kind, key, certificateB64) {
  const sigT = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const header = {
    alg: "ES256", b64: false, crit: ["b64"], x5c: [certificateB64], sigT, kind,
    sha256: hex(await crypto.subtle.digest("SHA-256", bytes)),
  };
  const protectedPart = b64url(new TextEncoder().encode(JSON.stringify(header)));
  const input = new Uint8Array([...new TextEncoder().encode(`${protectedPart}.`), ...bytes]);
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, input);
  return `${protectedPart}..${b64url(new Uint8Array(signature))}`;
}

async function importSigningKey(file) {
  const pem = await file.text();
  const body = pemBody(pem, "PRIVATE KEY");
  if (!body) {
    throw new Problem(0, "KEY_FORMAT", "The key file must be a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----). Convert an EC key with: openssl pkcs8 -topk8 -nocrypt.");
  }
  const der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  try {
    return await crypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  } catch {
    throw new Problem(0, "KEY_FORMAT", "The key file is not an ECDSA P-256 private key.");
  }
}

async function readCertificate(file) {
  const body = pemBody(await file.text(), "CERTIFICATE");
  if (!body) throw new Problem(0, "CERT_FORMAT", "The certificate file must be a PEM certificate (-----BEGIN CERTIFICATE-----).");
  return body;
}

export async function render({ root }) {
  const files = new Map(); // name -> {name, bytes, kind|null, signature|null}
  let verified = null; // the body last checked and found good
  const list = el("ul", { class: "doc-list", id: "doc-list", "aria-live": "polite" });
  const result = el("section", { id: "result", "aria-live": "polite", "aria-labelledby": "result-h" });
  const input = el("input", { type: "file", id: "files", multiple: true, accept: ".xml,.jws,application/xml,text/xml" });
  const keyInput = el("input", { type: "file", id: "signing-key", accept: ".pem,.key" });
  const certInput = el("input", { type: "file", id: "certificate", accept: ".pem,.crt" });
  const tokenize = el("button", { type: "submit", id: "tokenize", disabled: true }, "Tokenize the invoice");

  function refresh() {
    verified = null;
    tokenize.disabled = true;
    result.replaceChildren();
    const docs = [...files.values()].filter((f) => f.kind);
    list.replaceChildren(
      ...[...files.values()].map((f) =>
        el("li", { dataset: { name: f.name } },
          f.kind ? `${f.name}: ${KIND_NAMES[f.kind]}` : f.name.endsWith(".jws") ? `${f.name}: signature` : `${f.name}: not a UBL document`,
          f.kind ? (signatureFor(f) ? " (signature attached)" : " (to be signed here)") : "",
          " ",
          el("button", { type: "button", class: "link", "aria-label": `Remove ${f.name}`, onclick: () => { files.delete(f.name); refresh(); } }, "Remove"),
        ),
      ),
    );
    if (!docs.length) list.append(el("li", { class: "muted" }, "No documents yet."));
  }

  function signatureFor(doc) {
    const candidates = [`${doc.name}.jws`, `${doc.name.replace(/\.xml$/i, "")}.jws`];
    for (const name of candidates) if (files.has(name)) return new TextDecoder().decode(files.get(name).bytes).trim();
    return null;
  }

  async function add(fileList) {
    for (const file of fileList) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      files.set(file.name, { name: file.name, bytes, kind: file.name.endsWith(".jws") ? null : kindOf(bytes) });
    }
    refresh();
  }

  async function body() {
    const docs = [...files.values()].filter((f) => f.kind);
    if (!docs.length) throw new Problem(0, "NO_DOCUMENTS", "Add the order, the delivery note and the invoice first.");
    let key = null;
    let certificate = null;
    const documents = [];
    for (const doc of docs) {
      let signature = signatureFor(doc);
      if (!signature) {
        if (!keyInput.files.length || !certInput.files.length) {
          throw new Problem(0, "NO_SIGNATURE", `${doc.name} has no signature file: add its .jws, or choose your key and certificate to sign it here.`);
        }
        key ??= await importSigningKey(keyInput.files[0]);
        certificate ??= await readCertificate(certInput.files[0]);
        signature = await signDetached(doc.bytes, doc.kind, key, certificate);
      }
      documents.push({ name: doc.name, content_base64: base64(doc.bytes), signature });
    }
    return { documents };
  }

  function showResult(outcome) {
    const failing = new Set((outcome.violations ?? []).map((v) => v.document).filter(Boolean));
    for (const item of list.querySelectorAll("li[data-name]")) {
      const bad = failing.has(item.dataset.name);
      item.classList.toggle("failing", bad);
      item.querySelector(".problem")?.remove();
      if (bad) item.prepend(el("strong", { class: "problem" }, "Has problems: "));
    }
    if (outcome.ok) {
      const s = outcome.summary;
      result.replaceChildren(
        el("h2", { id: "result-h" }, "All checks passed"),
        el("p", { class: "ok" }, `Invoice ${s.invoice_number}: ${faceOf(s)}, due ${day(s.due_date)}. You can tokenize it now.`),
      );
    } else {
      result.replaceChildren(
        el("h2", { id: "result-h" }, "The documents were refused"),
        el("ul", { class: "violations", id: "violations" },
          outcome.violations.map((v) =>
            el("li", {}, el("strong", {}, v.document ? `${v.document}: ` : ""), v.message, " ", el("span", { class: "muted" }, `(${v.code}${v.field ? `, ${v.field}` : ""})`)),
          ),
        ),
      );
    }
  }

  const checkForm = action(
    el("form", { id: "check-form", "aria-label": "Check the documents" },
      el("div", { class: "error", role: "alert" }),
      el("button", { type: "submit", id: "check" }, "Check the documents"),
    ),
    async () => {
      const submission = await body();
      const outcome = await api("POST", "/bundles/verify", submission);
      showResult(outcome);
      verified = outcome.ok ? submission : null;
      tokenize.disabled = !verified;
      return null;
    },
  );

  const tokenizeForm = action(
    el("form", { id: "tokenize-form", "aria-label": "Tokenize" }, el("div", { class: "error", role: "alert" }), tokenize),
    async (_, key) => {
      if (!verified) throw new Problem(0, "NOT_CHECKED", "Check the documents first.");
      try {
        const out = await api("POST", "/bundles", verified, { idempotencyKey: key });
        result.replaceChildren(
          el("h2", { id: "result-h" }, "Tokenized"),
          el("p", { class: "ok", id: "tokenized" }, `Invoice ${out.invoice_number} is receivable `, receivableLink(out.receivable_id), ` for ${money(out.face_value_minor, out.currency)}.`),
        );
        files.clear();
        verified = null;
        tokenize.disabled = true;
        list.replaceChildren();
        return `Receivable #${out.receivable_id} created (transaction ${out.tx_hash}).`;
      } catch (problem) {
        if (problem instanceof Problem && Array.isArray(problem.details)) showResult({ ok: false, violations: problem.details });
        throw problem;
      }
    },
  );

  const drop = el("div", { class: "dropzone", id: "dropzone" },
    el("p", {}, "Drop the XML documents and their .jws signature files here, or choose them:"),
    field("Documents and signatures", input),
  );
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    add(e.dataTransfer.files).catch((p) => (result.textContent = explain(p)));
  });
  input.addEventListener("change", () => add(input.files).then(() => (input.value = "")));
  keyInput.addEventListener("change", refresh);
  certInput.addEventListener("change", refresh);

  root.replaceChildren(
    el("p", {}, "Each document must be signed by its issuer: the order by your customer, the delivery note and the invoice by you. Signatures from an ERP come as .jws files named after their document (Invoice.xml.jws)."),
    drop,
    el("h2", {}, "Documents"),
    list,
    el("details", { class: "card", open: true },
      el("summary", {}, "Sign here with my key (documents without a .jws file)"),
      el("p", { class: "muted" }, "Your key is read into this page only to sign, and is not stored or sent anywhere."),
      field("My signing key (PKCS#8 PEM)", keyInput),
      field("My certificate (PEM, from onboarding)", certInput),
    ),
    el("div", { class: "row" }, checkForm, tokenizeForm),
    result,
  );
  refresh();
}
