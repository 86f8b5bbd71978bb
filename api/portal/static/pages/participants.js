// Participants: everyone on the platform. The operator onboards (certificate + chain registration),
// suspends and reinstates, revokes a certificate and issues a new API key; the regulator only reads.
// Secrets (API keys, certificates) are shown once in the page and never stored by the browser.
import { Problem, action, all, api, badge, day, el, field, flash, table } from "../portal.js";

const ROLES = [
  ["supplier", "Supplier"],
  ["core_enterprise", "Core enterprise"],
  ["financier", "Financier"],
  ["regulator", "Regulator"],
  ["logistics", "Logistics"],
];

// RFC 5280 reasons the platform uses (RevokeRequest.reason): value, words for people
const REVOCATION_REASONS = [
  ["keyCompromise", "Key compromise"],
  ["affiliationChanged", "Affiliation changed"],
  ["superseded", "Superseded"],
  ["cessationOfOperation", "Cessation of operation"],
  ["privilegeWithdrawn", "Privilege withdrawn"],
  ["unspecified", "Unspecified"],
];

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const roleName = (role) => role.replace(/_/g, " ");
const slugOf = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "participant";

function statusBadge(status) {
  const kind = { active: "ok", suspended: "bad", pending: "warn" }[status] ?? "warn";
  return badge(status, kind);
}

// ------------------------------------------------------------------------------------------ secrets

/** Offer `text` as a file download (a Blob behind an object URL, released right after). */
function download(filename, text, type = "application/x-pem-file") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    flash(`${what} copied to the clipboard.`, "ok");
  } catch {
    flash(`The browser did not allow copying. Select the ${what.toLowerCase()} and copy it, or download it.`, "bad");
  }
}

/**
 * A box with secrets shown once: `items` are {label, value, filename, multiline}. Only the page holds
 * them (no storage of any kind); "Hide" removes them from the page for good.
 */
function secretsBox(title, intro, items) {
  const headingId = `secret-h-${crypto.randomUUID().slice(0, 8)}`;
  const box = el("section", { class: "card", "aria-labelledby": headingId },
    el("h2", { id: headingId, tabindex: "-1" }, title),
    el("p", { class: "notice bad" },
      el("strong", {}, "Warning: shown only now. "),
      "The gateway keeps only a hash of the API key and will never show it again. Download or copy each "
      + "item below and hand it to the participant over a secure channel before you leave this page. "
      + "If the key is lost, issue a new one.",
    ),
    intro ? el("p", { class: "wrap-anywhere" }, intro) : null,
  );
  for (const item of items) {
    const shown = item.multiline
      ? field(item.label, el("textarea", { class: "secret", readonly: true, rows: "8", spellcheck: "false" }, item.value))
      : el("div", { class: "field" },
          el("p", {}, el("strong", {}, item.label)),
          el("p", { class: "secret" }, item.value));
    box.append(
      shown,
      el("div", { class: "row" },
        el("button", { type: "button", class: "secondary", onclick: () => download(item.filename, item.value, item.type) },
          `Download ${item.label}`),
        el("button", { type: "button", class: "secondary", onclick: () => copy(item.value, item.label) },
          `Copy ${item.label}`),
      ),
    );
  }
  box.append(
    el("p", {},
      el("button", { type: "button", onclick: () => {
        box.remove();
        flash("The secrets were removed from the page.", "ok");
      } }, "I have saved them: hide"),
    ),
  );
  return box;
}

function showSecrets(secrets, box) {
  secrets.prepend(box);
  box.querySelector("h2")?.focus();
}

// ------------------------------------------------------------------------------------------ onboarding

/** "scheme:id" lines as party identifiers; a Problem names the first bad line. */
function parseIdentifiers(text) {
  const out = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    const colon = line.indexOf(":");
    const scheme = colon > 0 ? line.slice(0, colon).trim() : "";
    const id = colon > 0 ? line.slice(colon + 1).trim() : "";
    if (!scheme || !id) {
      throw new Problem(0, "PARTY_IDENTIFIER_INVALID",
        `Party identifiers, line ${index + 1}: write it as scheme:id, for example 0088:7350000000001.`);
    }
    out.push({ scheme, id });
  });
  if (out.length > 20) throw new Problem(0, "PARTY_IDENTIFIER_INVALID", "At most 20 party identifiers.");
  return out;
}

const isPrivateKey = (pem) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem);
const isCsr = (pem) => /-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(pem);

function onboardForm(secrets, reload) {
  const name = el("input", { name: "legal_name", required: true, maxlength: "64", autocomplete: "off" });
  const registration = el("input", { name: "registration_id", required: true, maxlength: "64", autocomplete: "off", spellcheck: "false" });
  const role = el("select", { name: "role", required: true }, ROLES.map(([value, label]) => el("option", { value }, label)));
  const identifiers = el("textarea", { name: "party_identifiers", rows: "3", spellcheck: "false", autocomplete: "off" });
  const address = el("input", { name: "chain_address", autocomplete: "off", spellcheck: "false", placeholder: "0x…" });
  const pem = el("textarea", { name: "signing_key", rows: "7", required: true, spellcheck: "false" });
  const file = el("input", { type: "file", name: "signing_key_file", accept: ".pem,.pub,.csr,.req,.txt,application/x-pem-file" });
  const errorBox = el("div", { class: "error", role: "alert" }); // action() and the file input share it

  file.addEventListener("change", async () => {
    errorBox.textContent = "";
    const chosen = file.files?.[0];
    if (!chosen) return;
    if (chosen.size > 16_000) {
      errorBox.textContent = "That file is too large for a PEM public key or request.";
      file.value = "";
      return;
    }
    const text = await chosen.text();
    file.value = "";
    if (isPrivateKey(text)) {
      errorBox.textContent = "That file holds a PRIVATE key: it was not read into the form. "
        + "Give the participant's public key or a certificate request; the private key never leaves them.";
      return;
    }
    pem.value = text.trim() + "\n";
    flash(`Read ${chosen.name} into the form.`, "ok");
  });

  const form = el("form", { class: "card", "aria-labelledby": "onboard-h" },
    el("h2", { id: "onboard-h" }, "Onboard a participant"),
    el("p", { class: "muted" },
      "The platform CA issues the participant's signing certificate and the participant is registered "
      + "on the ledger with its role. Its API key is shown once, right after."),
    field("Legal name", name),
    field("Registration id", registration, "The company registration number, e.g. SE5561234567."),
    field("Role", role),
    field("Party identifiers (optional)", identifiers,
      "One per line as scheme:id, e.g. 0088:7350000000001 (0088 is a GLN). They tie the participant to its trade documents."),
    field("Chain address (optional)", address,
      "The participant's own address (0x and 40 hex digits) if it signs its transactions itself. "
      + "Leave empty for a custodial account: the gateway creates it and signs on the participant's behalf."),
    field("Signing public key or certificate request (PEM)", pem,
      "The participant's document-signing key, ECDSA P-256: paste -----BEGIN PUBLIC KEY----- … or a "
      + "CSR (-----BEGIN CERTIFICATE REQUEST----- …). Never a private key."),
    field("…or read it from a file", file),
    errorBox,
    el("button", { type: "submit" }, "Onboard participant"),
  );

  return action(form, async (_, key) => {
    const text = pem.value.trim();
    if (!name.value.trim() || !registration.value.trim()) {
      throw new Problem(0, "FIELD_REQUIRED", "Give the legal name and the registration id.");
    }
    if (!text) throw new Problem(0, "SIGNING_KEY_REQUIRED", "Give the participant's signing public key or a certificate request.");
    if (isPrivateKey(text)) {
      throw new Problem(0, "SIGNING_KEY_INVALID", "That is a PRIVATE key: never send it. Give the public key or a certificate request.");
    }
    const chain = address.value.trim();
    if (chain && !ADDRESS.test(chain)) {
      throw new Problem(0, "ADDRESS_INVALID", "The chain address is 0x followed by 40 hexadecimal digits (or leave it empty).");
    }
    const body = {
      legal_name: name.value.trim(),
      registration_id: registration.value.trim(),
      role: role.value,
      party_identifiers: parseIdentifiers(identifiers.value),
    };
    if (chain) body.chain_address = chain;
    if (isCsr(text)) body.csr_pem = `${text}\n`;
    else body.signing_key_pem = `${text}\n`;

    let done;
    try {
      done = await api("POST", "/participants", body, { idempotencyKey: key });
    } catch (problem) {
      // onboarding is not replayed by its key (the API key is never stored in clear): after a lost
      // answer the retry finds the participant already there
      if (problem instanceof Problem && problem.code === "PARTICIPANT_EXISTS") {
        problem.message += " If an earlier attempt's answer was lost, the participant is in the list below: "
          + "issue it a new API key there.";
      }
      throw problem;
    }
    const who = done.participant;
    const slug = slugOf(who.legal_name);
    form.reset();
    showSecrets(secrets, secretsBox(
      `Onboarded ${who.legal_name}: its API key and certificates`,
      `Participant id ${who.id}, ${roleName(who.role)}, chain address ${who.chain_address}${who.custodial ? " (custodial)" : ""}.`,
      [
        { label: "API key", value: done.api_key, filename: `${slug}-api-key.txt`, type: "text/plain" },
        { label: "Certificate", value: done.certificate_pem, filename: `${slug}-certificate.pem`, multiline: true },
        { label: "CA certificate", value: done.ca_certificate_pem, filename: "scf-platform-ca.pem", multiline: true },
      ],
    ));
    return `Onboarded ${who.legal_name} as ${roleName(who.role)}${done.tx_hash ? ` (transaction ${done.tx_hash})` : ""}.`;
  }, reload);
}

// ------------------------------------------------------------------------------------------ row actions

/** A confirmation in the page: what will happen, then "Confirm …" (runs through `action`) or "Cancel". */
function confirmForm(p, { title, explanation, extra = [], confirm, danger = true, run }, panel, reload) {
  const headingId = `confirm-h-${crypto.randomUUID().slice(0, 8)}`;
  const form = el("form", { class: "card", "aria-labelledby": headingId },
    el("h3", { id: headingId, tabindex: "-1" }, title),
    el("p", {}, explanation),
    extra,
    el("div", { class: "error", role: "alert" }),
    el("div", { class: "row" },
      el("button", { type: "submit", class: danger ? "danger" : null }, confirm),
      el("button", { type: "button", class: "secondary", onclick: () => panel.replaceChildren() }, "Cancel"),
    ),
  );
  return action(form, run, reload);
}

function ask(panel, form) {
  panel.replaceChildren(form);
  form.querySelector("h3")?.focus();
}

function suspendForm(p, panel, reload) {
  const suspend = p.status === "active";
  const verb = suspend ? "suspend" : "reinstate";
  return confirmForm(p, {
    title: `${suspend ? "Suspend" : "Reinstate"} ${p.legal_name}?`,
    explanation: suspend
      ? "On the ledger and in the gateway: it can then neither act nor receive value until it is reinstated."
      : "It can act and receive value again, on the ledger and in the gateway.",
    confirm: `Confirm: ${verb} ${p.legal_name}`,
    danger: suspend,
    run: async (_, key) => {
      const out = await api("POST", `/participants/${encodeURIComponent(p.id)}/${verb}`, undefined, { idempotencyKey: key });
      panel.replaceChildren();
      return `${out.legal_name} is now ${out.status}.`;
    },
  }, panel, reload);
}

function revokeForm(p, panel, reload) {
  const reason = el("select", { name: "reason", required: true },
    REVOCATION_REASONS.map(([value, label]) => el("option", { value }, `${label} (${value})`)));
  return confirmForm(p, {
    title: `Revoke the signing certificate of ${p.legal_name}?`,
    explanation: `Certificate serial ${p.certificate_serial}. Its signatures are refused from then on, for good: `
      + "revocation cannot be undone; the participant needs a new certificate to sign again.",
    extra: [field("Reason", reason)],
    confirm: `Confirm: revoke the certificate of ${p.legal_name}`,
    run: async (_, key) => {
      await api("POST", `/participants/${encodeURIComponent(p.id)}/certificate/revoke`, { reason: reason.value },
        { idempotencyKey: key });
      panel.replaceChildren();
      return `The certificate of ${p.legal_name} is revoked (${reason.value}).`;
    },
  }, panel, reload);
}

function apiKeyForm(p, panel, secrets, reload) {
  return confirmForm(p, {
    title: `Issue a new API key for ${p.legal_name}?`,
    explanation: "The current key stops working at once (its sessions end too). The new key is shown once, here.",
    confirm: `Confirm: new API key for ${p.legal_name}`,
    run: async (_, key) => {
      const out = await api("POST", `/participants/${encodeURIComponent(p.id)}/api-key`, undefined, { idempotencyKey: key });
      panel.replaceChildren();
      showSecrets(secrets, secretsBox(`New API key of ${p.legal_name}`, `Participant id ${out.participant_id}.`, [
        { label: "API key", value: out.api_key, filename: `${slugOf(p.legal_name)}-api-key.txt`, type: "text/plain" },
      ]));
      return `A new API key was issued for ${p.legal_name}; the old one no longer works.`;
    },
  }, panel, reload);
}

function rowActions(p, panel, secrets, reload) {
  const canToggle = p.status === "active" || p.status === "suspended";
  return el("div", { class: "row-actions" },
    canToggle
      ? el("button", { type: "button", class: "secondary", onclick: () => ask(panel, suspendForm(p, panel, reload)) },
          p.status === "active" ? "Suspend…" : "Reinstate…")
      : null,
    p.certificate_revoked
      ? null
      : el("button", { type: "button", class: "secondary", onclick: () => ask(panel, revokeForm(p, panel, reload)) },
          "Revoke certificate…"),
    el("button", { type: "button", class: "secondary", onclick: () => ask(panel, apiKeyForm(p, panel, secrets, reload)) },
      "New API key…"),
  );
}

// ------------------------------------------------------------------------------------------ page

function identifierList(p) {
  if (!p.party_identifiers.length) return "—";
  return p.party_identifiers.map((i) => `${i.scheme}:${i.id}`).join(", ");
}

async function participantList(section, operator, secrets) {
  const reload = () => participantList(section, operator, secrets);
  const rows = await all("/participants");
  const panel = el("div", { id: "participant-actions" });
  const columns = [
    { label: "Name", cell: (p) => el("span", {}, p.legal_name, el("br"), el("small", { class: "muted" }, p.id)) },
    { label: "Role", cell: (p) => roleName(p.role) },
    { label: "Status", cell: (p) => [statusBadge(p.status), p.certificate_revoked ? [" ", badge("certificate revoked", "bad")] : null] },
    { label: "Registration id", cell: (p) => p.registration_id },
    { label: "Chain address", cell: (p) => el("code", { class: "wrap-anywhere" }, p.chain_address) },
    { label: "Custodial", cell: (p) => (p.custodial ? "yes" : "no") },
    { label: "Identifiers", cell: identifierList },
    { label: "Since", cell: (p) => day(String(p.created_at).slice(0, 10)) },
  ];
  if (operator) columns.push({ label: "Actions", cell: (p) => rowActions(p, panel, secrets, reload) });
  const counts = rows.reduce((m, p) => m.set(p.status, (m.get(p.status) ?? 0) + 1), new Map());
  const summary = [...counts].map(([status, n]) => `${n} ${status}`).join(", ");
  section.replaceChildren(
    el("h2", { id: "participants-h" }, "All participants"),
    rows.length ? el("p", { class: "muted" }, `${rows.length} participant${rows.length === 1 ? "" : "s"}: ${summary}.`) : "",
    table(`Participants (${rows.length})`, columns, rows, "No participant has been onboarded yet."),
    panel,
  );
}

export async function render({ root, role }) {
  const operator = role === "operator";
  const secrets = el("div", { id: "secrets" });
  const list = el("section", { "aria-labelledby": "participants-h" });
  const reload = () => participantList(list, operator, secrets);
  await reload();
  root.replaceChildren(
    ...(operator ? [secrets, onboardForm(secrets, reload)] : [el("p", { class: "muted" }, "Read-only view: every participant of the platform.")]),
    list,
  );
}
