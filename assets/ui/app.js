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

function newJobPage() {
  const example = { kind: "train", spec: { dataset_id: "<dataset id>", hidden: [64], epochs: 10 } };
  page("New job",
    el("p", {}, "A job request as ", el("code", {}, "POST /v1/jobs"), " takes it (the API reference at ",
      el("a", { href: "../docs" }, "docs"), " lists every kind's spec)."),
    el("form", {
      id: "new-job",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const out = document.getElementById("new-job-error");
        out.textContent = "";
        let request;
        try { request = JSON.parse(ev.target.elements.request.value); } catch (e) { out.textContent = `Not JSON: ${e.message}`; return; }
        try {
          const job = await api("/v1/jobs", { method: "POST", json: request });
          location.hash = `#/jobs/${job.id}`;
        } catch (e) {
          const fields = (e.problem?.errors || []).map((f) => `${f.field}: ${f.message}`).join("; ");
          out.textContent = fields ? `${e.message} — ${fields}` : e.message;
        }
      },
    },
    el("label", {}, "Request", el("textarea", { name: "request", rows: 12, spellcheck: "false" }, JSON.stringify(example, null, 2))),
    el("p", { id: "new-job-error", class: "error", role: "alert" }),
    el("button", { class: "primary", type: "submit" }, "Submit")));
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
      el("h2", {}, "Spec"), el("pre", {}, JSON.stringify(job.spec, null, 2)),
      job.errors?.length ? [el("h2", {}, "Attempts that failed"), el("table", {},
        el("thead", {}, el("tr", {}, el("th", {}, "Attempt"), el("th", {}, "When"), el("th", {}, "Error"))),
        el("tbody", {}, job.errors.map((e) => el("tr", {}, el("td", {}, e.attempt), el("td", {}, when(e.at)), el("td", {}, e.message)))))] : null,
      job.result ? [el("h2", {}, "Result"), el("pre", { id: "result" }, JSON.stringify(job.result, null, 2))] : null);
  };
  drawHead(); drawCurves(); drawDetail();
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
    } else {
      job = await api(`/v1/jobs/${id}`);
      drawHead(); drawDetail();
    }
  }, pageAbort.signal);
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
    if (parts[0] === "jobs" && parts[1] === "new") return newJobPage();
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
