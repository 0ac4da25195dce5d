// whittle's web UI: plain ES modules, no build step, served by whittle at /ui/. It talks to
// the same origin only (the API base is this page's parent path, so it works behind a path
// prefix) and sends the API key, kept in this tab's sessionStorage, to nothing else.

const API = new URL("..", location.href).pathname.replace(/\/$/, "");
const KEY_SLOT = "whittle.apiKey";
const KINDS = ["analyze", "train", "evaluate", "quantize", "prune", "tune"];
const STATES = ["queued", "running", "succeeded", "failed", "canceled"];
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
const COLOURS = 6; // series colours: classes c0…c5 (app.css), Okabe–Ito

const main = document.getElementById("main");
let pageAbort = null; // aborts the current page's streams when the route changes

// ---------------------------------------------------------------------------------------
// HTTP

function key() {
  return sessionStorage.getItem(KEY_SLOT);
}

function headers(extra = {}) {
  const h = { ...extra };
  const k = key();
  if (k) h.authorization = `Bearer ${k}`;
  return h;
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(path, { method = "GET", body, json, signal } = {}) {
  const init = { method, headers: headers(), signal };
  if (json !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  const r = await fetch(API + path, init);
  if (r.status === 401) {
    sessionStorage.removeItem(KEY_SLOT);
    throw new ApiError(401, await r.json().catch(() => null));
  }
  if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
  if (r.status === 204) return null;
  return r.json();
}

// Server-sent events over fetch (EventSource cannot send an Authorization header). Calls
// `onEvent(type, data)` until the stream ends or `signal` aborts; reconnects with the last id.
async function stream(path, onEvent, signal) {
  let last = null;
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const h = headers({ accept: "text/event-stream" });
      if (last !== null) h["last-event-id"] = last;
      const r = await fetch(API + path, { headers: h, signal });
      if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return; // the server ended the stream (the job ended)
        text += value;
        let end;
        while ((end = text.indexOf("\n\n")) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          let id = null, type = "message", data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("id:")) id = line.slice(3).trim();
            else if (line.startsWith("event:")) type = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).trimStart();
          }
          if (id !== null) last = id;
          if (data) onEvent(type, JSON.parse(data));
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError && e.status < 500) throw e;
      await new Promise((ok) => setTimeout(ok, Math.min(1000 * 2 ** attempt, 15000)));
    }
  }
}

// ---------------------------------------------------------------------------------------
// DOM helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const svg = (tag, attrs = {}) => {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
};

function toast(message) {
  const t = document.getElementById("toast");
  t.textContent = message;
  setTimeout(() => { if (t.textContent === message) t.textContent = ""; }, 5000);
}

// The tail of an id: ids are time-ordered (UUIDv7), so their heads repeat across a session.
const short = (id) => (id ? id.slice(-8) : "");
const when = (t) => (t ? new Date(t).toLocaleString() : "—");
const bytes = (n) => {
  if (n === null || n === undefined) return "—";
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
};
const stateBadge = (s) => el("span", { class: `state ${s}`, "data-state": s }, s);

function page(title, ...children) {
  main.replaceChildren(el("h1", {}, title), ...children);
  document.title = `${title} · whittle`;
  main.focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------
// Sign-in

function signIn(reason) {
  page(
    "API key",
    el("p", {}, reason || "This server asks for an API key (`whittle apikey create --tenant NAME`)."),
    el("form", {
      class: "inline", id: "key-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const value = ev.target.elements.key.value.trim();
        sessionStorage.setItem(KEY_SLOT, value);
        route();
      },
    },
    el("label", {}, "Key", el("input", { name: "key", type: "password", autocomplete: "off", required: true, size: 50 })),
    el("button", { class: "primary", type: "submit" }, "Use this key")),
  );
}

async function whoAmI() {
  const who = document.getElementById("who");
  const out = document.getElementById("signout");
  try {
    const t = await api("/v1/tenant");
    who.textContent = `tenant: ${t.name}`;
    out.hidden = !key();
    return true;
  } catch (e) {
    if (e.status === 401) return false;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------
// Jobs

async function jobsPage(params) {
  const kind = params.get("kind") || "";
  const state = params.get("state") || "";
  const q = new URLSearchParams({ limit: "100" });
  if (kind) q.set("kind", kind);
  if (state) q.set("state", state);
  const filters = el("form", {
    class: "inline", "aria-label": "Filter jobs",
    onchange: (ev) => {
      const f = new URLSearchParams();
      if (ev.currentTarget.elements.kind.value) f.set("kind", ev.currentTarget.elements.kind.value);
      if (ev.currentTarget.elements.state.value) f.set("state", ev.currentTarget.elements.state.value);
      location.hash = `#/jobs?${f}`;
    },
  },
  el("label", {}, "Kind", el("select", { name: "kind" }, el("option", { value: "" }, "any"),
    KINDS.map((k) => el("option", { value: k, selected: k === kind }, k)))),
  el("label", {}, "State", el("select", { name: "state" }, el("option", { value: "" }, "any"),
    STATES.map((s) => el("option", { value: s, selected: s === state }, s)))),
  el("a", { href: "#/jobs/new" }, "New job…"));
  const body = el("tbody");
  const table = el("table", { id: "jobs" },
    el("thead", {}, el("tr", {}, ["Job", "Kind", "State", "Progress", "Created", "Finished", ""].map((h) => el("th", { scope: "col" }, h)))),
    body);
  page("Jobs", filters, table);
  const rows = new Map();
  const render = (j) => {
    const cancel = TERMINAL.has(j.state) ? null : el("button", {
      type: "button", "aria-label": `Cancel job ${short(j.id)}`,
      onclick: async () => { await api(`/v1/jobs/${j.id}/cancel`, { method: "POST" }).catch((e) => toast(e.message)); },
    }, "Cancel");
    const tr = el("tr", { "data-job": j.id },
      el("td", {}, el("a", { href: `#/jobs/${j.id}` }, el("code", {}, short(j.id)))),
      el("td", {}, j.kind),
      el("td", {}, stateBadge(j.state)),
      el("td", {}, el("progress", { max: 1, value: j.progress ?? 0, "aria-label": "progress" }), " ", j.progress_message || ""),
      el("td", {}, when(j.created_at)),
      el("td", {}, when(j.finished_at)),
      el("td", {}, cancel));
    const old = rows.get(j.id);
    if (old) old.replaceWith(tr); else body.append(tr);
    rows.set(j.id, tr);
  };
  const list = await api(`/v1/jobs?${q}`);
  list.items.forEach(render);
  if (!list.items.length) body.append(el("tr", {}, el("td", { colspan: 7 }, "No jobs yet.")));
  // Live: every event of the tenant re-reads that job (and adds new ones at the top).
  const filter = new URLSearchParams();
  if (kind) filter.set("kind", kind);
  stream(`/v1/events?${filter}`, async (type, ev) => {
    if (state && ev.state !== state && !rows.has(ev.job_id)) return;
    const j = await api(`/v1/jobs/${ev.job_id}`).catch(() => null);
    if (!j || (j.kind === "trial")) return;
    if (!rows.has(j.id)) {
      const tr = el("tr");
      body.prepend(tr);
      rows.set(j.id, tr);
    }
    render(j);
  }, pageAbort.signal).catch((e) => toast(e.message));
}

// The fields a guided job form asks, per kind; `build` turns them into a request.
const FORMS = {
  analyze: { fields: ["model"], build: (f) => ({ model_id: f.model }) },
  train: {
    fields: ["dataset", "hidden", "epochs", "lr", "batch_size"],
    build: (f) => ({ dataset_id: f.dataset, architecture: { hidden: ints(f.hidden), activation: "relu" },
      optimizer: { kind: "adam", lr: Number(f.lr) }, batch_size: Number(f.batch_size), epochs: Number(f.epochs), seed: 0 }),
  },
  evaluate: { fields: ["model", "dataset"], build: (f) => ({ model_id: f.model, dataset_id: f.dataset }) },
  quantize: {
    fields: ["model", "bits", "granularity", "group_size", "eval_dataset", "tolerable_loss"],
    build: (f) => ({ model_id: f.model, scheme: { bits: Number(f.bits), granularity: f.granularity,
      ...(f.granularity === "group" ? { group_size: Number(f.group_size) } : {}) },
      ...(f.eval_dataset ? { eval_dataset_id: f.eval_dataset } : {}),
      ...(f.eval_dataset && f.tolerable_loss !== "" ? { tolerable_loss: Number(f.tolerable_loss) } : {}) }),
  },
  prune: {
    fields: ["model", "sparsity", "prune_method", "eval_dataset"],
    build: (f) => ({ model_id: f.model, sparsity: Number(f.sparsity), method: f.prune_method,
      ...(f.eval_dataset ? { eval_dataset_id: f.eval_dataset } : {}) }),
  },
  tune: {
    fields: ["dataset", "epochs", "n_trials", "sampler"],
    build: (f) => ({ dataset_id: f.dataset,
      base: { architecture: { hidden: [64], activation: "relu" }, optimizer: { kind: "adam", lr: 0.001 }, batch_size: 64, epochs: Number(f.epochs), seed: 0 },
      search_space: { "optimizer.lr": { type: "float", low: 1e-4, high: 1e-1, log: true }, batch_size: { type: "categorical", choices: [32, 64, 128] } },
      sampler: f.sampler, ...(f.sampler === "grid" ? {} : { n_trials: Number(f.n_trials) }) }),
  },
};
const ints = (text) => String(text).split(/[ ,]+/).filter(Boolean).map(Number);

async function newJobPage() {
  const [models, datasets] = await Promise.all([api("/v1/models?limit=200"), api("/v1/datasets?limit=200")]);
  const pick = (name, label, items, optional) => el("label", { "data-field": name }, label,
    el("select", { name }, optional ? el("option", { value: "" }, "none") : null,
      items.map((x) => el("option", { value: x.id }, `${x.name} (${short(x.id)})`))));
  const num = (name, label, value, attrs = {}) => el("label", { "data-field": name }, label, el("input", { name, value, inputmode: "decimal", size: 8, ...attrs }));
  const choice = (name, label, options, value) => el("label", { "data-field": name }, label,
    el("select", { name }, options.map((o) => el("option", { value: o, selected: o === value }, o))));
  const fields = {
    model: pick("model", "Model", models.items),
    dataset: pick("dataset", "Dataset", datasets.items),
    eval_dataset: pick("eval_dataset", "Evaluate on", datasets.items, true),
    hidden: num("hidden", "Hidden layers", "64", { inputmode: "text" }),
    epochs: num("epochs", "Epochs", "10"),
    lr: num("lr", "Learning rate", "0.001"),
    batch_size: num("batch_size", "Batch size", "64"),
    bits: choice("bits", "Bits", ["2", "3", "4", "8"], "8"),
    granularity: choice("granularity", "Granularity", ["tensor", "channel", "group"], "channel"),
    group_size: num("group_size", "Group size", "128"),
    tolerable_loss: num("tolerable_loss", "Tolerable loss", ""),
    sparsity: num("sparsity", "Sparsity", "0.5"),
    prune_method: choice("prune_method", "Method", ["magnitude", "threshold", "structured", "nm", "wanda"], "magnitude"),
    n_trials: num("n_trials", "Trials", "20"),
    sampler: choice("sampler", "Sampler", ["tpe", "random", "grid"], "tpe"),
  };
  const kind = choice("kind", "Kind", KINDS, "train");
  const textarea = el("textarea", { name: "request", rows: 14, spellcheck: "false", "aria-label": "Request JSON" });
  const guided = el("form", { class: "inline", id: "guided", "aria-label": "Job settings" }, kind, Object.values(fields));
  const sync = () => {
    const k = guided.elements.kind.value;
    const form = FORMS[k];
    for (const [name, label] of Object.entries(fields)) label.hidden = !form.fields.includes(name);
    const values = Object.fromEntries(form.fields.map((n) => [n, guided.elements[n].value]));
    textarea.value = JSON.stringify({ kind: k, spec: form.build(values) }, null, 2);
  };
  guided.addEventListener("input", sync);
  guided.addEventListener("change", sync);
  guided.addEventListener("submit", (ev) => ev.preventDefault());
  page("New job",
    el("p", {}, "Choose a kind and its settings; the request below follows them and can be edited before it is sent (",
      el("a", { href: "../docs" }, "API reference"), " for every field)."),
    guided,
    el("form", {
      id: "new-job",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const out = document.getElementById("new-job-error");
        out.textContent = "";
        let request;
        try { request = JSON.parse(textarea.value); } catch (e) { out.textContent = `Not JSON: ${e.message}`; return; }
        try {
          const job = await api("/v1/jobs", { method: "POST", json: request });
          location.hash = `#/jobs/${job.id}`;
        } catch (e) {
          const errs = (e.problem?.errors || []).map((f) => `${f.field}: ${f.message}`).join("; ");
          out.textContent = errs ? `${e.message} — ${errs}` : e.message;
        }
      },
    },
    el("label", {}, "Request", textarea),
    el("p", { id: "new-job-error", class: "error", role: "alert" }),
    el("button", { class: "primary", type: "submit" }, "Submit")));
  sync();
}

// A line chart of named series: {name: [{step, value}]}. Redrawn whole on every change.
function chart(series, { width = 640, height = 260 } = {}) {
  const pad = { l: 52, r: 12, t: 10, b: 28 };
  const names = Object.keys(series).sort();
  const points = names.flatMap((n) => series[n].filter((p) => Number.isFinite(p.value)));
  const box = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img" });
  if (!points.length) {
    box.setAttribute("aria-label", "no points yet");
    const t = svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" });
    t.textContent = "no points yet";
    box.append(t);
    return box;
  }
  const xs = points.map((p) => p.step), ys = points.map((p) => p.value);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) x1 = x0 + 1;
  if (y0 === y1) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
  const X = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (y) => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  box.append(svg("line", { class: "axis", x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b }));
  box.append(svg("line", { class: "axis", x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b }));
  for (const [v, y] of [[y1, pad.t + 4], [y0, height - pad.b]]) {
    const t = svg("text", { x: pad.l - 6, y, "text-anchor": "end" });
    t.textContent = Number(v.toPrecision(3));
    box.append(t);
  }
  for (const [v, x, a] of [[x0, pad.l, "start"], [x1, width - pad.r, "end"]]) {
    const t = svg("text", { x, y: height - 8, "text-anchor": a });
    t.textContent = v;
    box.append(t);
  }
  names.forEach((n, i) => {
    const ps = series[n].filter((p) => Number.isFinite(p.value)).sort((a, b) => a.step - b.step);
    box.append(svg("polyline", {
      "data-series": n, "data-points": ps.length, class: `line c${i % COLOURS}`,
      points: ps.map((p) => `${X(p.step).toFixed(1)},${Y(p.value).toFixed(1)}`).join(" "),
    }));
  });
  box.setAttribute("aria-label", `chart of ${names.join(", ")}`);
  return box;
}

function legend(names) {
  return el("div", { class: "legend" }, names.map((n, i) => el("span", { class: `c${i % COLOURS}` }, n)));
}

async function jobPage(id) {
  let job = await api(`/v1/jobs/${id}`);
  const metrics = await api(`/v1/jobs/${id}/metrics`);
  const series = metrics.series;
  const head = el("div");
  const curves = el("div", { id: "curves" });
  const detail = el("div");
  page(`Job ${short(id)}`, head, el("h2", {}, "Metrics"), curves, detail);
  const drawHead = () => {
    const cancel = TERMINAL.has(job.state) ? null : el("button", {
      type: "button", onclick: () => api(`/v1/jobs/${id}/cancel`, { method: "POST" }).catch((e) => toast(e.message)),
    }, "Cancel");
    head.replaceChildren(el("p", {}, `${job.kind} · `, stateBadge(job.state), ` · attempt ${job.attempt} of ${job.max_attempts} · `,
      el("progress", { max: 1, value: job.progress ?? 0, "aria-label": "progress" }), " ", job.progress_message || "", " ", cancel),
    job.output_model_id ? el("p", {}, "Output model: ", el("a", { href: `#/models/${job.output_model_id}` }, short(job.output_model_id)),
      " · ", el("a", { href: `${API}/v1/models/${job.output_model_id}/content`, download: "", onclick: download(job.output_model_id) }, "download")) : null);
  };
  const drawCurves = () => {
    // Loss-like and accuracy-like series on separate charts (their scales differ).
    const groups = {};
    for (const [name, points] of Object.entries(series)) {
      const g = /acc|f1|r2/.test(name) ? "quality" : /lr|learning_rate/.test(name) ? "learning rate" : "loss and values";
      (groups[g] ||= {})[name] = points;
    }
    const order = ["loss and values", "quality", "learning rate"];
    const sorted = Object.entries(groups).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
    curves.replaceChildren(...(sorted.length ? sorted.map(([g, s]) =>
      el("figure", {}, el("figcaption", {}, g), legend(Object.keys(s).sort()), chart(s))) : [el("p", {}, "No series recorded (yet).")]));
  };
  const drawDetail = () => {
    detail.replaceChildren(
      job.result && Array.isArray(job.result.tensors) ? compressionReport(job.result) : null,
      el("h2", {}, "Spec"), el("pre", { tabindex: 0 }, JSON.stringify(job.spec, null, 2)),
      job.errors?.length ? [el("h2", {}, "Attempts that failed"), el("table", {},
        el("thead", {}, el("tr", {}, el("th", {}, "Attempt"), el("th", {}, "When"), el("th", {}, "Error"))),
        el("tbody", {}, job.errors.map((e) => el("tr", {}, el("td", {}, e.attempt), el("td", {}, when(e.at)), el("td", {}, e.message)))))] : null,
      job.result ? [el("h2", {}, "Result"), el("pre", { id: "result", tabindex: 0 }, JSON.stringify(job.result, null, 2))] : null);
  };
  const study = job.kind === "tune" ? el("section", { id: "study", "aria-label": "Study" }) : null;
  if (study) detail.before(study);
  const drawStudy = async () => {
    if (!study) return;
    const trials = await api(`/v1/jobs/${id}/trials?limit=200`);
    study.replaceChildren(...studyView(job, trials.items));
  };
  drawHead(); drawCurves(); drawDetail(); await drawStudy();
  if (TERMINAL.has(job.state) && !Object.keys(series).length) curves.previousSibling.remove(), curves.remove();
  if (TERMINAL.has(job.state)) return;
  await stream(`/v1/jobs/${id}/events`, async (type, ev) => {
    if (type === "job.metric") {
      const d = ev.data;
      const s = (series[d.name] ||= []);
      if (!s.some((p) => p.step === d.step)) s.push({ step: d.step, value: d.value });
      drawCurves();
    } else if (type === "job.progress") {
      job.progress = ev.data.progress ?? job.progress;
      job.progress_message = ev.data.message ?? job.progress_message;
      drawHead();
    } else if (type === "job.trial") {
      await drawStudy();
    } else {
      job = await api(`/v1/jobs/${id}`);
      drawHead(); drawDetail(); await drawStudy();
    }
  }, pageAbort.signal);
}

// ---------------------------------------------------------------------------------------
// Studies (tune jobs)

// A scatter/line plot: layers of {name, points: [{x, y, label?}], mode: "line"|"points"|"dashed"}.
// `xs` names categories when the x values are category indexes.
function plot(layers, { width = 560, height = 240, xs = null, xLabel = "", yLabel = "", id } = {}) {
  const pad = { l: 56, r: 12, t: 12, b: 34 };
  const all = layers.flatMap((l) => l.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const box = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", ...(id ? { id } : {}) });
  box.setAttribute("aria-label", `${yLabel} by ${xLabel}`);
  if (!all.length) return box;
  let [x0, x1] = [Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x))];
  let [y0, y1] = [Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y))];
  if (xs) { x0 = -0.5; x1 = xs.length - 0.5; }
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (!xs && layers.some((l) => l.mode === "points")) { const d = (x1 - x0) * 0.05; x0 -= d; x1 += d; }
  if (y0 === y1) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
  const X = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (y) => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  const text = (x, y, t, anchor = "middle") => { const n = svg("text", { x, y, "text-anchor": anchor }); n.textContent = t; return n; };
  box.append(svg("line", { class: "axis", x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b }),
    svg("line", { class: "axis", x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b }),
    text(pad.l - 6, pad.t + 8, Number(y1.toPrecision(3)), "end"), text(pad.l - 6, height - pad.b, Number(y0.toPrecision(3)), "end"),
    text((pad.l + width - pad.r) / 2, height - 4, xLabel));
  if (xs) xs.forEach((c, i) => box.append(text(X(i), height - pad.b + 13, c)));
  else box.append(text(pad.l, height - pad.b + 13, Number(x0.toPrecision(3)), "start"), text(width - pad.r, height - pad.b + 13, Number(x1.toPrecision(3)), "end"));
  layers.forEach((l, i) => {
    const ps = l.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    const cls = `c${(l.colour ?? i) % COLOURS}`;
    if (l.mode === "points") {
      const g = svg("g", { class: `points ${cls}`, "data-layer": l.name, "data-points": ps.length });
      for (const p of ps) {
        const c = svg("circle", { cx: X(p.x).toFixed(1), cy: Y(p.y).toFixed(1), r: 3.5 });
        if (p.label) { const t = svg("title"); t.textContent = p.label; c.append(t); }
        g.append(c);
      }
      box.append(g);
    } else {
      box.append(svg("polyline", { class: `line ${cls}${l.mode === "dashed" ? " dashed" : ""}`, "data-layer": l.name, "data-points": ps.length,
        points: ps.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(" ") }));
    }
  });
  return box;
}

// Parallel coordinates: one axis per parameter and one for the value; one line per trial.
function parallel(params, trials, valueName) {
  const width = 720, height = 260, pad = { l: 40, r: 40, t: 24, b: 24 };
  const axes = [...params, valueName];
  const scales = axes.map((a) => {
    const vals = trials.map((t) => (a === valueName ? t.value : t.params[a]));
    if (vals.every((v) => typeof v === "number")) {
      let [lo, hi] = [Math.min(...vals), Math.max(...vals)];
      if (lo === hi) { lo -= 1; hi += 1; }
      return { f: (v) => (v - lo) / (hi - lo), lo, hi };
    }
    const cats = [...new Set(vals.map(String))];
    return { f: (v) => (cats.length === 1 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1)), cats };
  });
  const X = (i) => pad.l + (i / (axes.length - 1 || 1)) * (width - pad.l - pad.r);
  const Y = (f) => height - pad.b - f * (height - pad.t - pad.b);
  const box = svg("svg", { class: "chart", id: "parallel", viewBox: `0 0 ${width} ${height}`, width, height, role: "img" });
  box.setAttribute("aria-label", `parallel coordinates of ${axes.join(", ")}`);
  axes.forEach((a, i) => {
    box.append(svg("line", { class: "axis", x1: X(i), y1: pad.t, x2: X(i), y2: height - pad.b }));
    const t = svg("text", { x: X(i), y: 14, "text-anchor": "middle" }); t.textContent = a; box.append(t);
  });
  const values = trials.map((t) => t.value);
  const [vlo, vhi] = [Math.min(...values), Math.max(...values)];
  for (const t of trials) {
    const pts = axes.map((a, i) => `${X(i).toFixed(1)},${Y(scales[i].f(a === valueName ? t.value : t.params[a])).toFixed(1)}`);
    // Colour by value: better trials in the first palette colour, worse in the second.
    const good = vhi === vlo ? 0 : (t.value - vlo) / (vhi - vlo);
    box.append(svg("polyline", { class: `line trial ${good >= 0.5 ? "c0" : "c1"}`, "data-trial": t.number, points: pts.join(" ") }));
  }
  return box;
}

// How much of the value's variance each parameter explains on its own (η²: between-group
// variance over total variance, numeric parameters binned into up to 5 quantile bins).
function importance(params, trials) {
  const ys = trials.map((t) => t.value);
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const total = ys.reduce((a, y) => a + (y - mean) ** 2, 0);
  return params.map((p) => {
    const xs = trials.map((t) => t.params[p]);
    let key;
    if (xs.every((x) => typeof x === "number") && new Set(xs).size > 5) {
      const sorted = [...xs].sort((a, b) => a - b);
      const cuts = [1, 2, 3, 4].map((q) => sorted[Math.floor((q * sorted.length) / 5)]);
      key = (x) => cuts.filter((c) => x >= c).length;
    } else key = (x) => String(x);
    const groups = new Map();
    trials.forEach((t, i) => { const k = key(xs[i]); (groups.get(k) || groups.set(k, []).get(k)).push(t.value); });
    let between = 0;
    for (const g of groups.values()) { const m = g.reduce((a, b) => a + b, 0) / g.length; between += g.length * (m - mean) ** 2; }
    return { param: p, share: total > 0 ? between / total : 0 };
  }).sort((a, b) => b.share - a.share);
}

function studyView(job, trials) {
  const direction = job.spec.direction || "maximize";
  const metric = job.spec.metric || "value";
  const better = (a, b) => (direction === "minimize" ? a < b : a > b);
  const done = trials.filter((t) => t.state === "complete" && Number.isFinite(t.value)).sort((a, b) => a.number - b.number);
  const params = [...new Set(trials.flatMap((t) => Object.keys(t.params || {})))].sort();
  let best = null;
  const bestLine = done.map((t) => { if (best === null || better(t.value, best)) best = t.value; return { x: t.number, y: best }; });
  const out = [el("h2", {}, `Study: ${trials.length} trials, ${done.length} complete (${direction} ${metric})`)];
  out.push(el("h3", {}, "Optimization history"), legend(["trial value", "best so far"]),
    plot([{ name: "trials", mode: "points", points: done.map((t) => ({ x: t.number, y: t.value, label: `trial ${t.number}: ${fmt(t.value)}` })) },
      { name: "best", mode: "line", points: bestLine }], { id: "history", xLabel: "trial", yLabel: metric }));
  if (params.length && done.length) {
    out.push(el("h3", {}, "Slices"), el("div", { class: "grid", id: "slices" }, params.map((p) => {
      const vals = done.map((t) => t.params[p]);
      const numeric = vals.every((v) => typeof v === "number");
      const cats = numeric ? null : [...new Set(vals.map(String))];
      return el("figure", { "data-param": p }, el("figcaption", {}, p),
        plot([{ name: p, mode: "points", points: done.map((t) => ({ x: numeric ? t.params[p] : cats.indexOf(String(t.params[p])), y: t.value, label: `trial ${t.number}` })) }],
          { width: 320, height: 200, xs: cats, xLabel: p, yLabel: metric }));
    })));
    out.push(el("h3", {}, "Parallel coordinates"), parallel(params, done, metric));
    const imp = importance(params, done);
    out.push(el("h3", {}, "Parameter importance"),
      el("p", {}, "Share of the variance of the trial values each parameter explains on its own (η², numeric parameters in up to 5 quantile bins); not a causal estimate, and parameters that interact can each look unimportant."),
      el("table", { id: "importance" }, el("tbody", {}, imp.map((i) => el("tr", { "data-param": i.param }, el("td", {}, i.param),
        el("td", { class: "num" }, `${(i.share * 100).toFixed(1)} %`),
        el("td", {}, el("span", { class: `bar` }, el("span", { class: `fill w${Math.round(i.share * 20)}` }))))))));
  }
  const withSteps = trials.filter((t) => Array.isArray(t.intermediate) && t.intermediate.length);
  if (withSteps.length) {
    out.push(el("h3", {}, "Intermediate values"), el("p", {}, "Per epoch; dashed: pruned trials."),
      plot(withSteps.map((t) => ({ name: `trial ${t.number}`, colour: t.state === "pruned" ? 1 : 0, mode: t.state === "pruned" ? "dashed" : "line",
        points: t.intermediate.map(([x, y]) => ({ x, y })) })), { id: "intermediate", xLabel: "epoch", yLabel: metric }));
  }
  out.push(el("h3", {}, "Trials"), el("table", { id: "trials" },
    el("thead", {}, el("tr", {}, ["#", "State", metric, ...params, "Seconds"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, [...trials].sort((a, b) => a.number - b.number).map((t) => el("tr", { "data-trial": t.number, "data-state": t.state },
      el("td", { class: "num" }, t.number), el("td", {}, t.state), el("td", { class: "num" }, fmt(t.value)),
      params.map((p) => el("td", {}, fmt(t.params?.[p]))), el("td", { class: "num" }, fmt(t.duration_seconds, 2)))))));
  return out;
}

// ---------------------------------------------------------------------------------------
// Compression report (quantize and prune results)

const fmt = (v, digits = 4) => {
  if (v === null || v === undefined) return "—";
  if (typeof v !== "number") return Array.isArray(v) ? JSON.stringify(v) : String(v);
  if (Number.isInteger(v)) return v.toLocaleString();
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(digits);
};

// Two values side by side as bars of one scale (before in the muted colour).
function beforeAfter(label, before, after, unit = "") {
  const max = Math.max(Math.abs(before), Math.abs(after)) || 1;
  const bar = (v, cls) => el("div", { class: `bar ${cls}`, "data-value": v },
    el("span", { class: `fill w${Math.round((Math.abs(v) / max) * 20)}` }), el("span", {}, `${fmt(v)}${unit}`));
  return el("figure", { class: "ba", "aria-label": `${label}: ${fmt(before)} before, ${fmt(after)} after` },
    el("figcaption", {}, label), el("div", {}, "before"), bar(before, "before"), el("div", {}, "after"), bar(after, "after"));
}

const TENSOR_COLUMNS = [
  ["name", "Tensor"], ["shape", "Shape"], ["dtype", "Dtype"], ["bits_per_weight", "Bits/weight"],
  ["mse", "MSE"], ["max_abs_error", "Max |error|"], ["sqnr_db", "SQNR dB"], ["sparsity", "Sparsity"],
  ["zeros", "Zeros"], ["numel", "Elements"],
];

function compressionReport(r) {
  const cols = TENSOR_COLUMNS.filter(([k]) => r.tensors.some((t) => t[k] !== undefined));
  let sortKey = "name", ascending = true;
  const body = el("tbody");
  const head = el("tr");
  const draw = () => {
    const rows = [...r.tensors].sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return ascending ? c : -c;
    });
    body.replaceChildren(...rows.map((t) => el("tr", { "data-tensor": t.name },
      cols.map(([k]) => el("td", { class: typeof t[k] === "number" ? "num" : null, "data-key": k }, k === "name" ? el("code", {}, t.name) : fmt(t[k]))))));
    head.replaceChildren(...cols.map(([k, label]) => el("th", { scope: "col", "aria-sort": k === sortKey ? (ascending ? "ascending" : "descending") : "none" },
      el("button", { type: "button", class: "sort", "data-sort": k, onclick: () => { ascending = sortKey === k ? !ascending : true; sortKey = k; draw(); } },
        label, k === sortKey ? (ascending ? " ▲" : " ▼") : ""))));
  };
  draw();
  const summary = el("div", { class: "grid" },
    r.bytes_before !== undefined ? beforeAfter("Bytes", r.bytes_before, r.bytes_after) : null,
    r.eval_before !== undefined && r.eval_before !== null ? beforeAfter(r.eval_metric || r.metric || "quality", r.eval_before, r.eval_after) : null,
    r.params_before !== undefined ? beforeAfter("Non-zero parameters", r.params_before, r.nonzero_params_after) : null);
  const facts = [
    ["compression ratio", r.compression_ratio && `${fmt(r.compression_ratio, 2)}×`], ["bits per weight", r.bits_per_weight],
    ["SQNR", r.sqnr_db !== undefined && `${fmt(r.sqnr_db, 2)} dB`], ["format", r.format], ["sparsity", r.global?.sparsity],
    ["method", typeof r.method === "string" ? r.method : r.method?.kind], ["tensors quantized", r.n_tensors_quantized],
    ["left in float", r.left_in_float?.length ? r.left_in_float.join(", ") : null],
  ].filter(([, v]) => v !== undefined && v !== null && v !== false && v !== "");
  const attempts = Array.isArray(r.attempts) && r.attempts.length ? [el("h3", {}, "Tolerable-loss ladder"),
    el("table", { id: "attempts" }, el("thead", {}, el("tr", {}, ["Scheme", "Bits/weight", "Quality after", "Loss", "Passed"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, r.attempts.map((a) => el("tr", {}, el("td", {}, el("code", {}, JSON.stringify(a.scheme))),
        el("td", { class: "num" }, fmt(a.bits_per_weight)), el("td", { class: "num" }, a.metric ? `${a.metric} ${fmt(a.after)}` : fmt(a.after)),
        el("td", { class: "num" }, fmt(a.loss)), el("td", {}, a.passed ? "yes" : "no")))))] : [];
  return el("section", { id: "report", "aria-label": "Compression report" },
    el("h2", {}, "Compression report"),
    el("dl", { class: "facts" }, facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, fmt(v, 3))])),
    summary, ...attempts,
    el("h3", {}, `Tensors (${r.tensors.length})`),
    el("table", { id: "tensor-report" }, el("thead", {}, head), body));
}

// Downloads go through fetch (they need the key), then to a file.
function download(modelId) {
  return async (ev) => {
    ev.preventDefault();
    const r = await fetch(`${API}/v1/models/${modelId}/content`, { headers: headers() });
    if (!r.ok) { toast(`download failed: HTTP ${r.status}`); return; }
    const url = URL.createObjectURL(await r.blob());
    const a = el("a", { href: url, download: `${modelId}.safetensors` });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  };
}

// ---------------------------------------------------------------------------------------
// Models and datasets

// Upload with progress (fetch cannot report upload progress; XMLHttpRequest can).
function upload(path, file, onProgress) {
  return new Promise((ok, fail) => {
    const x = new XMLHttpRequest();
    x.open("POST", API + path);
    for (const [k, v] of Object.entries(headers({ "content-type": "application/octet-stream" }))) x.setRequestHeader(k, v);
    x.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    x.onload = () => {
      let body = null;
      try { body = JSON.parse(x.responseText); } catch { /* not JSON */ }
      if (x.status >= 200 && x.status < 300) ok(body); else fail(new ApiError(x.status, body));
    };
    x.onerror = () => fail(new Error("the upload was interrupted"));
    x.send(file);
  });
}

function uploader(what, pathFor, extra) {
  const bar = el("progress", { max: 1, value: 0, hidden: true, "aria-label": "upload progress" });
  const status = el("p", { role: "status" });
  const input = el("input", { type: "file", name: "file", id: `${what}-file`, "aria-label": `${what} file` });
  const send = async (file) => {
    if (!file) return;
    bar.hidden = false; bar.value = 0; status.textContent = `Uploading ${file.name}…`;
    try {
      const made = await upload(pathFor(file), file, (f) => { bar.value = f; });
      status.textContent = `Stored ${made.name} (${short(made.id)}).`;
      route();
    } catch (e) {
      status.textContent = `Refused: ${e.message}`;
      status.className = "error";
    } finally { bar.hidden = true; }
  };
  input.addEventListener("change", () => send(input.files[0]));
  const zone = el("div", {
    class: "drop",
    ondragover: (e) => { e.preventDefault(); zone.classList.add("over"); },
    ondragleave: () => zone.classList.remove("over"),
    ondrop: (e) => { e.preventDefault(); zone.classList.remove("over"); send(e.dataTransfer.files[0]); },
  }, `Drop a ${what} file here, or `, input);
  return el("section", { "aria-label": `Upload a ${what}` }, extra || null, zone, bar, status);
}

async function modelsPage() {
  const list = await api("/v1/models?limit=200");
  page("Models",
    uploader("model", (f) => `/v1/models?name=${encodeURIComponent(f.name.replace(/\.[^.]*$/, ""))}`),
    el("table", { id: "models" },
      el("thead", {}, el("tr", {}, ["Model", "Name", "Format", "Parameters", "Size", "Created"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, list.items.length ? list.items.map((m) => el("tr", { "data-model": m.id },
        el("td", {}, el("a", { href: `#/models/${m.id}` }, el("code", {}, short(m.id)))),
        el("td", {}, m.name), el("td", {}, m.format), el("td", { class: "num" }, m.n_params?.toLocaleString() ?? "—"),
        el("td", { class: "num" }, bytes(m.bytes)), el("td", {}, when(m.created_at)))) : el("tr", {}, el("td", { colspan: 6 }, "No models yet.")))));
}

async function modelPage(id) {
  const m = await api(`/v1/models/${id}`);
  const jobs = await api("/v1/jobs?limit=200");
  const uses = jobs.items.filter((j) => JSON.stringify(j.spec).includes(id) || j.output_model_id === id);
  page(`Model ${m.name}`,
    el("p", {}, `${m.format} · ${m.n_params?.toLocaleString() ?? "?"} parameters · ${bytes(m.bytes)} · sha256 `, el("code", {}, m.sha256 || "")),
    el("p", {}, el("a", { href: `${API}/v1/models/${id}/content`, onclick: download(id) }, "Download")),
    el("h2", {}, "Jobs that used or produced it"),
    uses.length ? el("ul", {}, uses.map((j) => el("li", {}, el("a", { href: `#/jobs/${j.id}` }, `${j.kind} ${short(j.id)}`), " ",
      stateBadge(j.state), j.output_model_id === id ? " (produced it)" : " (used it)"))) : el("p", {}, "None."),
    el("h2", {}, "Tensors"),
    el("table", { id: "tensors" }, el("thead", {}, el("tr", {}, ["Name", "Dtype", "Shape"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, (m.tensors || []).map((t) => el("tr", {}, el("td", {}, el("code", {}, t.name)), el("td", {}, t.dtype), el("td", {}, JSON.stringify(t.shape)))))));
}

async function datasetsPage() {
  const list = await api("/v1/datasets?limit=200");
  const target = el("input", { name: "target", placeholder: "last column", size: 12, "aria-label": "target column" });
  page("Datasets",
    uploader("dataset", (f) => {
      const q = new URLSearchParams({ name: f.name.replace(/\.[^.]*$/, "") });
      const ext = f.name.split(".").pop().toLowerCase();
      if (["csv", "npy", "jsonl"].includes(ext)) q.set("format", ext);
      if (target.value) q.set("target", target.value);
      return `/v1/datasets?${q}`;
    }, el("label", {}, "Target column (CSV)", target)),
    el("table", { id: "datasets" },
      el("thead", {}, el("tr", {}, ["Dataset", "Name", "Format", "Rows", "Size", "Created"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, list.items.length ? list.items.map((d) => el("tr", { "data-dataset": d.id },
        el("td", {}, el("code", {}, short(d.id))), el("td", {}, d.name), el("td", {}, d.format),
        el("td", { class: "num" }, d.rows?.toLocaleString() ?? "—"), el("td", { class: "num" }, bytes(d.bytes)),
        el("td", {}, when(d.created_at)))) : el("tr", {}, el("td", { colspan: 6 }, "No datasets yet.")))));
}

// ---------------------------------------------------------------------------------------
// Routing

async function route() {
  pageAbort?.abort();
  pageAbort = new AbortController();
  const [path, query] = (location.hash.slice(1) || "/jobs").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  try {
    if (!(await whoAmI())) { signIn(key() ? "That key was refused; enter another." : undefined); return; }
    if (parts[0] === "jobs" && parts[1] === "new") return await newJobPage();
    if (parts[0] === "jobs" && parts[1]) return await jobPage(parts[1]);
    if (parts[0] === "models" && parts[1]) return await modelPage(parts[1]);
    if (parts[0] === "models") return await modelsPage();
    if (parts[0] === "datasets") return await datasetsPage();
    return await jobsPage(params);
  } catch (e) {
    if (e.name === "AbortError") return;
    if (e.status === 401) { signIn("The key was refused; enter another."); return; }
    page("Something went wrong", el("p", { class: "error", role: "alert" }, e.message));
  }
}

document.getElementById("signout").addEventListener("click", () => {
  sessionStorage.removeItem(KEY_SLOT);
  document.getElementById("who").textContent = "";
  route();
});
window.addEventListener("hashchange", route);
route();
