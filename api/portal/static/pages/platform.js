// Platform health: the chain (id, head, lost blocks), the deployed contracts, the database, and the
// indexer with a check of the read model against the contracts' own state. Operator and regulator.
import { api, badge, el, explain, flash, moment } from "../portal.js";

const yes = (ok, good = "ok", bad = "not ok", kind = "bad") => badge(ok ? good : bad, ok ? "ok" : kind);
const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** `<dl class="facts">` from [term, description] pairs (a null pair is left out). */
function facts(pairs) {
  return el("dl", { class: "facts" },
    pairs.filter(Boolean).flatMap(([term, description]) => [el("dt", {}, term), el("dd", {}, description)]));
}

function section(id, title, ...content) {
  return el("section", { class: "card", "aria-labelledby": id }, el("h2", { id }, title), ...content);
}

const failed = (problem) => el("p", { class: "error" }, explain(problem));

function overall(health, readModel, checkedAt) {
  const status = health.status === "ok";
  return section("overall-h", "Overall",
    facts([
      ["Status", health.status === undefined ? badge("unknown", "bad") : yes(status, "ok", health.status)],
      readModel ? ["Read model", yes(readModel.in_sync, "in sync", "differs from the chain")] : null,
      ["Checked", moment(checkedAt.toISOString())],
    ]),
  );
}

function lostBlocks(lost) {
  if (!lost) return [];
  return [
    el("h3", { id: "lost-h" }, "Latest loss of blocks"),
    facts([
      ["Found", moment(lost.detected_at)],
      ["Last block of ours kept", lost.fork_block < 0 ? "none" : String(lost.fork_block)],
      ["Chain head then", String(lost.chain_head)],
      ["Our transactions gone", String(lost.vanished_transactions)],
      ["Submissions released", String(lost.released_bundles)],
      ["Accounts resynced", String(lost.resynced_accounts)],
    ]),
  ];
}

function chain(health) {
  const c = health.chain;
  return section("chain-h", "Chain",
    facts([
      ["Chain id", String(c.chain_id)],
      ["Head block", String(c.latest_block)],
      c.rpc_url ? ["Node URL", el("code", { class: "wrap-anywhere" }, c.rpc_url)] : null,
      ["Lost blocks", c.lost_blocks ? badge("blocks were lost", "bad") : badge("none seen", "ok")],
    ]),
    ...lostBlocks(c.lost_blocks),
  );
}

function contracts(health) {
  const names = Object.keys(health.contracts).sort();
  const missing = health.missing_contracts ?? [];
  return section("contracts-h", "Contracts",
    names.length
      ? facts(names.map((name) => {
          const c = health.contracts[name];
          return [name, el("span", {}, el("code", { class: "wrap-anywhere" }, c.address), " ", yes(c.has_code, "code present", "no code"))];
        }))
      : el("p", { class: "muted" }, "No contract is deployed."),
    missing.length
      ? el("p", {}, badge("missing", "bad"), ` Not deployed: ${missing.join(", ")}.`)
      : el("p", {}, badge("complete", "ok"), " Every contract of the deployment plan is deployed."),
  );
}

function database(health) {
  const d = health.database;
  return section("database-h", "Database",
    facts([
      ["Status", yes(d.ok, "ok", "not ok")],
      ["Takes writes", yes(d.writable, "yes", d.reason ? `no: ${d.reason}` : "no")],
      ["Migration revision", d.revision ? el("code", {}, d.revision) : "—"],
      d.problem ? ["Problem", el("code", {}, d.problem)] : null,
    ]),
  );
}

function indexer(health, readModel, readModelProblem) {
  const i = health.indexer;
  const lag = i?.lag;
  const lagText = lag === null || lag === undefined
    ? badge("unknown", "warn")
    : lag === 0
      ? badge("up to the head", "ok")
      : badge(`${count(lag, "block", "blocks")} behind`, lag > 5 ? "bad" : "warn");
  const parts = [];
  if (i) {
    parts.push(facts([
      ["Indexing process (leader)", i.leader ? el("code", {}, i.leader) : badge("none right now", "warn")],
      ["Process that answered", el("code", {}, i.this_process)],
      ["Last indexed block", i.cursor === null ? "none yet" : String(i.cursor)],
      ["Lag", lagText],
    ]));
  } else {
    parts.push(el("p", {}, badge("unknown", "bad"), " The database did not answer: the indexer's state is unknown."));
  }
  parts.push(el("h3", { id: "read-model-h" }, "Read model against the contracts"));
  if (readModelProblem) {
    parts.push(failed(readModelProblem));
  } else {
    const diffs = readModel.differences ?? [];
    parts.push(
      facts([
        ["In sync", yes(readModel.in_sync, "yes", "no")],
        ["Checked up to block", String(readModel.indexed_block)],
        ["Mismatches", diffs.length ? badge(String(diffs.length), "bad") : badge("none", "ok")],
      ]),
      diffs.length
        ? el("ul", { "aria-label": "Mismatches between the read model and the contracts" },
            diffs.map((d) => el("li", {}, d)))
        : null,
    );
  }
  return section("indexer-h", "Indexer and read model", ...parts);
}

async function check(body) {
  const checkedAt = new Date();
  // one after the other: the read-model check indexes up to the head, so /health first shows the real lag
  const [health] = await Promise.allSettled([api("GET", "/health")]);
  const [readModel] = await Promise.allSettled([api("GET", "/health/read-model")]);
  const parts = [];
  if (health.status === "rejected") {
    parts.push(section("overall-h", "Overall",
      facts([["Status", badge("unreachable", "bad")], ["Checked", moment(checkedAt.toISOString())]]),
      failed(health.reason)));
  } else {
    const h = health.value;
    const rm = readModel.status === "fulfilled" ? readModel.value : null;
    parts.push(
      overall(h, rm, checkedAt),
      chain(h),
      contracts(h),
      database(h),
      indexer(h, rm, readModel.status === "rejected" ? readModel.reason : null),
    );
  }
  body.replaceChildren(...parts);
  return health.status === "fulfilled" && health.value.status === "ok"
    && readModel.status === "fulfilled" && readModel.value.in_sync;
}

export async function render({ root }) {
  const body = el("div", { id: "health" });
  const again = el("button", { type: "button", id: "check-again" }, "Check again");
  again.addEventListener("click", async () => {
    again.disabled = true;
    root.setAttribute("aria-busy", "true");
    try {
      const fine = await check(body);
      const at = moment(new Date().toISOString());
      if (fine) flash(`Checked again at ${at}: all is well.`, "ok");
      else flash(`Checked again at ${at}: something needs attention, see below.`, "bad");
    } catch (problem) {
      flash(explain(problem), "bad");
    } finally {
      again.disabled = false;
      root.setAttribute("aria-busy", "false");
    }
  });
  await check(body);
  root.replaceChildren(el("p", {}, again), body);
}
