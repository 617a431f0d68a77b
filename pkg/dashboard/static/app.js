// Tasker dashboard: live refresh of the task list and the task page, and
// the confirmation dialogs of the manual actions. Plain DOM, no framework;
// text is only ever set with textContent.
"use strict";

const POLL_MS = 1500;

function poll(url, fn) {
  let busy = false;
  const tick = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (res.status === 401) { location.reload(); return; }
      if (res.ok) await fn(await res.json());
    } catch (e) {
      // A failed poll is retried on the next tick.
    } finally {
      busy = false;
    }
  };
  setInterval(tick, POLL_MS);
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function badge(state) {
  return el("span", { class: "badge state-" + state }, state);
}

// Task list: rows and counts from /ui/api/tasks with the page's filters.
function liveTaskList(table) {
  const counts = document.getElementById("counts");
  const url = table.dataset.live + location.search;
  poll(url, (d) => {
    counts.querySelector("[data-total]").textContent = String(d.total);
    counts.querySelectorAll("a.count").forEach((a) => a.remove());
    const base = new URLSearchParams(location.search);
    for (const c of d.counts) {
      base.set("state", c.state);
      const a = el("a", { class: "count state-" + c.state, href: "?" + base.toString(), "data-state": c.state }, el("b", {}, String(c.count)), " " + c.state);
      counts.append(a);
    }
    const body = table.tBodies[0];
    const rows = d.tasks.map((t) => {
      const state = el("td", {}, badge(t.state));
      if (t.paused) state.append(" ", el("span", { class: "badge paused" }, "paused"));
      return el("tr", { "data-task": t.task_uuid },
        el("td", {}, el("a", { class: "mono", href: "/ui/tasks/" + encodeURIComponent(t.task_uuid) }, t.task_uuid)),
        el("td", {}, t.namespace + "/" + t.name, el("span", { class: "muted" }, ":" + t.version)),
        state, el("td", {}, t.created), el("td", {}, t.duration), el("td", {}, t.initiator || ""));
    });
    if (rows.length === 0) rows.push(el("tr", { class: "empty" }, el("td", { colspan: "6" }, "No tasks match.")));
    body.replaceChildren(...rows);
  });
}

// Task page: node and badge states at once from /ui/api/tasks/{id}; when
// anything else changed (new steps, attempts, audit entries) the page's live
// sections are swapped for freshly rendered ones, keeping open details open.
function liveTask(root) {
  poll(root.dataset.live, async (d) => {
    for (const s of d.steps) {
      const g = root.querySelector('svg.dag g[data-step="' + CSS.escape(s.name) + '"]');
      if (!g) continue;
      g.setAttribute("class", g.getAttribute("class").replace(/\bstate-\S+/, "state-" + s.state));
      const sub = g.querySelector("text.sub");
      if (sub) sub.textContent = s.state;
    }
    if (d.signature === root.dataset.signature) return;
    const res = await fetch(location.pathname, { credentials: "same-origin" });
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const next = doc.getElementById("task-live");
    if (!next) return;
    const open = new Set([...root.querySelectorAll("details[open]")].map((e) => e.id));
    const closed = new Set([...root.querySelectorAll("details:not([open])")].map((e) => e.id));
    for (const id of ["summary", "graph", "steps", "audit"]) {
      const cur = document.getElementById(id), fresh = next.querySelector("#" + id);
      if (cur && fresh) cur.replaceWith(document.importNode(fresh, true));
    }
    root.querySelectorAll("details[id]").forEach((e) => {
      if (open.has(e.id)) e.open = true;
      if (closed.has(e.id)) e.open = false;
    });
    root.dataset.signature = next.dataset.signature;
  });
}

const titles = {
  reset_for_retry: ["Retry step %s?", "The step goes back to pending with its attempts reset, and runs again.", "Retry"],
  resolve_manually: ["Resolve step %s manually?", "The step counts as done without a result; its dependents run.", "Resolve"],
  complete_manually: ["Complete step %s with data?", "The step completes with the JSON below as its result; its dependents receive it.", "Complete"],
};

// Confirmation dialogs: a button with data-dialog opens the named dialog
// and fills its form from the button's data attributes.
function openDialog(btn) {
  const dialog = document.getElementById(btn.dataset.dialog);
  if (!dialog) return;
  const form = dialog.querySelector("form");
  form.reset();
  form.action = btn.dataset.url;
  const action = btn.dataset.action;
  if (action) {
    const [title, text, confirm] = titles[action];
    dialog.querySelector('[data-slot="title"]').textContent = title.replace("%s", btn.dataset.step);
    dialog.querySelector('[data-slot="text"]').textContent = text;
    dialog.querySelector('[data-slot="confirm"]').textContent = confirm;
    form.elements.action_type.value = action;
    form.elements.return_to.value = btn.dataset.return || location.pathname;
    dialog.querySelectorAll("[data-only]").forEach((e) => {
      const on = e.dataset.only === action;
      e.hidden = !on;
      e.querySelectorAll("textarea, input, select").forEach((f) => { f.disabled = !on; });
    });
  } else if (btn.dataset.text) {
    dialog.querySelector('[data-slot="text"]').textContent = btn.dataset.text;
  }
  dialog.showModal();
}

document.addEventListener("click", (ev) => {
  const open = ev.target.closest("button[data-dialog]");
  if (open) { ev.preventDefault(); openDialog(open); return; }
  const close = ev.target.closest("[data-close]");
  if (close) { ev.preventDefault(); close.closest("dialog").close(); }
});

document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("task-table");
  if (table) liveTaskList(table);
  const task = document.getElementById("task-live");
  if (task) liveTask(task);
  const filters = document.getElementById("task-filters");
  if (filters) filters.addEventListener("change", () => filters.requestSubmit());
});
