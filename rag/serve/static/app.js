// The rag web page: ask questions (streamed over /v1/chat/completions), see each answer's sources with file,
// page and supporting sentence, follow up in a conversation, and watch what the index holds.
// Plain JavaScript, no build step; text from the server is only ever set as textContent, never as HTML.
"use strict";

const state = { messages: [], model: "rag", turns: 0 };
const $ = (id) => document.getElementById(id);

function headers(extra = {}) {
  const token = sessionStorage.getItem("rag-token");
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (response.status === 401) {
    document.querySelector(".token").hidden = false;
    throw new Error("this server needs its token: enter it above");
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error((body.error && body.error.message) || `HTTP ${response.status}`);
  }
  return response;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function baseName(path) { return path.split(/[\\/]/).pop(); }

function fileLink(citation) {
  const url = `/v1/file?path=${encodeURIComponent(citation.file)}` + (citation.page ? `#page=${citation.page}` : "");
  const where = citation.page ? `, page ${citation.page}` : citation.locator ? `, ${citation.locator}` : "";
  const label = baseName(citation.file) + where + (citation.ocr && where ? ", OCR" : "");
  const link = el("a", label, "page-link");
  link.href = url;
  link.target = "_blank";
  link.rel = "noopener";
  link.title = citation.file;
  link.addEventListener("click", (event) => {  // with a token, a plain link cannot authenticate: fetch it
    if (!sessionStorage.getItem("rag-token")) return;
    event.preventDefault();
    api(url.split("#")[0]).then((r) => r.blob()).then((blob) => {
      window.open(URL.createObjectURL(blob) + (citation.page ? `#page=${citation.page}` : ""), "_blank");
    });
  });
  return link;
}

function renderAnswer(node, text, turn) {
  node.replaceChildren();
  for (const part of text.split(/(\[\d+\])/)) {
    const marker = part.match(/^\[(\d+)\]$/);
    if (!marker) { node.append(part); continue; }
    const sup = el("sup");
    const link = el("a", part);
    link.href = `#source-${turn}-${marker[1]}`;
    sup.append(link);
    node.append(sup);
  }
}

function renderSources(list, doc, turn) {
  list.replaceChildren();
  for (const c of doc.citations) {
    const item = el("li");
    item.id = `source-${turn}-${c.n}`;
    item.value = c.n;
    item.append(fileLink(c));
    const kind = c.cited || c.inferred ? (c.verified ? "verified" : "unverified") : "retrieved";
    const words = { verified: "cited ✓", unverified: "cited (unverified)", retrieved: "retrieved" };
    item.append(el("span", c.inferred ? words[kind].replace("cited", "inferred") : words[kind], `mark ${kind}`));
    if (c.quote) item.append(el("span", `“${c.quote}”`, "quote"));
    list.append(item);
  }
}

async function* events(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 2);
      if (!line.startsWith("data: ")) continue;
      const data = line.slice(6);
      if (data === "[DONE]") return;
      yield JSON.parse(data);
    }
  }
}

async function ask(question) {
  const turn = ++state.turns;
  const view = $("turn").content.firstElementChild.cloneNode(true);
  view.querySelector(".question").textContent = question;
  const answer = view.querySelector(".answer");
  $("conversation").append(view);
  view.scrollIntoView({ block: "end" });
  const messages = [...state.messages, { role: "user", content: question }];
  let shown = "";
  try {
    const response = await api("/v1/chat/completions", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: state.model, stream: true, messages }),
    });
    for await (const chunk of events(response)) {
      if (chunk.error) throw new Error(chunk.error.message);
      const delta = chunk.choices[0].delta.content;
      if (delta && !chunk.rag) { shown += delta; answer.textContent = shown; }
      if (chunk.rag) finish(view, chunk.rag, shown, turn);
    }
    state.messages = [...messages, { role: "assistant", content: answer.dataset.final || shown }];
  } catch (error) {
    answer.classList.remove("streaming");
    answer.append(el("span", ` ${error.message}`, "error"));
  }
}

function finish(view, doc, shown, turn) {
  const answer = view.querySelector(".answer");
  answer.classList.remove("streaming");
  answer.dataset.final = doc.answer;
  renderAnswer(answer, doc.answer, turn);
  const note = view.querySelector(".note");
  if (doc.grounding === "quote") {
    note.textContent = `The model's reply (“${shown.trim()}”) does not hold against the sources; this is the passage that answers.`;
    note.hidden = false;
  } else if (doc.abstained) {
    note.textContent = "The documents don't answer this. The closest sources, to check yourself:";
    note.hidden = false;
  }
  if (doc.query) {
    const query = view.querySelector(".query");
    query.textContent = `searched for: ${doc.query}`;
    query.hidden = false;
  }
  renderSources(view.querySelector(".sources"), doc, turn);
}

async function refreshSources() {
  try {
    const [status, sources] = await Promise.all([api("/v1/status").then((r) => r.json()),
                                                 api("/v1/sources").then((r) => r.json())]);
    $("index-summary").textContent = `${sources.totals.indexed} files indexed, ${sources.totals.failed} failed; ` +
      `${status.counts.chunks || 0} chunks; model ${status.model}; index ${status.index}`;
    const body = $("sources").querySelector("tbody");
    body.replaceChildren();
    for (const s of sources.sources) {
      const row = el("tr");
      row.append(el("td", s.path), el("td", s.status, s.status), el("td", `${s.pages} ${s.units || "pages"}`), el("td", String(s.chunks)),
                 el("td", s.reason ? `${s.reason}: ${s.message || ""}` : ""));
      body.append(row);
    }
  } catch (error) {
    $("index-summary").textContent = error.message;
  }
}

function show(view) {
  $("chat-view").hidden = view !== "chat";
  $("ingest-view").hidden = view !== "ingest";
  $("show-chat").classList.toggle("active", view === "chat");
  $("show-ingest").classList.toggle("active", view === "ingest");
  if (view === "ingest") refreshSources();
}

$("ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  $("question").value = "";
  $("ask").disabled = true;
  await ask(question);
  $("ask").disabled = false;
  $("question").focus();
});
$("question").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("ask-form").requestSubmit(); }
});
$("reset").addEventListener("click", () => { state.messages = []; $("conversation").replaceChildren(); });
$("show-chat").addEventListener("click", () => show("chat"));
$("show-ingest").addEventListener("click", () => show("ingest"));
$("token").addEventListener("change", (event) => sessionStorage.setItem("rag-token", event.target.value.trim()));
$("upload-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("upload").files[0];
  if (!file) return;
  $("upload-status").textContent = `ingesting ${file.name}…`;
  try {
    const report = await api(`/v1/ingest/upload?filename=${encodeURIComponent(file.name)}`,
                             { method: "POST", body: file }).then((r) => r.json());
    const result = report.files[0] || {};
    $("upload-status").textContent = result.reason ? `${file.name}: ${result.reason}` : `${file.name}: ${result.status}`;
  } catch (error) {
    $("upload-status").textContent = error.message;
  }
  refreshSources();
});
api("/v1/models").then((r) => r.json()).then((models) => { state.model = models.data[0].id; }).catch(() => {});
