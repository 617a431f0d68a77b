// Browser test of the Tasker dashboard, run by pkg/dashboard/browser_test.go
// against a live devstack. Env: TASKER_URL (the API's base URL), TASKER_API_KEY
// (a key with every permission), E2E_OUT (screenshot folder, default e2e/out),
// CHROMIUM (default /usr/bin/chromium). Exits non-zero on the first failure.
import { chromium } from "playwright-core";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = process.env.TASKER_URL;
const key = process.env.TASKER_API_KEY;
const out = process.env.E2E_OUT || "e2e/out";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
if (!base || !key) {
  console.error("set TASKER_URL and TASKER_API_KEY");
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const run = Date.now().toString(36);
const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

function check(cond, msg) {
  if (!cond) throw new Error("check failed: " + msg);
}

// createTask starts a task through the JSON API, as a client would.
async function createTask(namespace, name, context) {
  const res = await fetch(base + "/v1/tasks", {
    method: "POST",
    headers: { "X-API-Key": key, "Content-Type": "application/json" },
    body: JSON.stringify({ namespace, name, context, initiator: "e2e" }),
  });
  const body = await res.json();
  check(res.status === 201, `create ${namespace}/${name}: ${res.status} ${JSON.stringify(body)}`);
  return body.task_uuid;
}

// nodeStates reads the graph's nodes: step name → state class.
function nodeStates(page) {
  return page.$$eval("svg.dag g.node", (gs) =>
    Object.fromEntries(gs.map((g) => [g.dataset.step, (g.getAttribute("class").match(/state-(\S+)/) || [, "none"])[1]])));
}

async function shot(page, name) {
  await page.screenshot({ path: join(out, name + ".png"), fullPage: true });
  log("screenshot " + name + ".png");
}

const userDataDir = mkdtempSync(join(tmpdir(), "tasker-e2e-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1360, height: 860 },
  deviceScaleFactor: 1,
});
const problems = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") problems.push("console error: " + m.text()); });

  // 1. Log in: the dashboard sends an anonymous browser to its login page.
  await page.goto(base + "/ui/tasks");
  check(page.url().includes("/ui/login"), "not redirected to login: " + page.url());
  await shot(page, "login");
  await page.fill('input[name="credential"]', "tk_not_a_real_key_0123456789");
  await page.click('button[type="submit"]');
  check(await page.isVisible("p.error"), "a wrong key was not rejected");
  await page.fill('input[name="credential"]', key);
  await Promise.all([page.waitForURL("**/ui/tasks"), page.click('button[type="submit"]')]);
  log("logged in");
  problems.length = 0; // the rejected key's 401 is expected

  // 2. Start a task and watch its graph turn all-complete without reloading.
  const order = await createTask("fulfillment", "order_fulfillment",
    { order_id: "ORD-" + run, customer_id: "C-7", items: [{ sku: "A-1", quantity: 2 }, { sku: "B-9", quantity: 1 }], amount: 59.9 });
  await page.goto(base + "/ui/tasks/" + order);
  const first = await nodeStates(page);
  check(Object.keys(first).length === 6, "fulfillment graph has " + Object.keys(first).length + " nodes, want 6");
  const wasRunning = Object.values(first).some((s) => s !== "complete");
  log("first look at the graph: " + JSON.stringify(first));
  if (wasRunning) await shot(page, "task-running");
  await page.waitForFunction(() => {
    const gs = [...document.querySelectorAll("svg.dag g.node")];
    return gs.length === 6 && gs.every((g) => g.classList.contains("state-complete"));
  }, null, { timeout: 30000 });
  await page.waitForSelector("#summary .badge.state-complete");
  check((await page.$$("#audit tbody tr")).length > 10, "the audit timeline is short");
  log("fulfillment task complete" + (wasRunning ? " (watched live)" : " (it finished before the first look)"));
  await shot(page, "task-complete");

  // 3. A few more tasks for the list, and two that fail for good.
  const failing = await createTask("dashboard_test", "card_payment", { order: "P-" + run });
  const failing2 = await createTask("dashboard_test", "card_payment", { order: "Q-" + run });
  await createTask("acceptance_diamond", "diamond_pattern", { even_number: 6 });
  await createTask("acceptance_linear", "mathematical_sequence", { even_number: 8 });
  await page.goto(base + "/ui/tasks");
  await page.waitForFunction(() => document.querySelector('#counts a.count[data-state="error"]') !== null, null, { timeout: 20000 });
  await page.waitForFunction(() => [...document.querySelectorAll("#task-table tbody tr")].length >= 5);
  await shot(page, "tasks");

  // 4. Open a failed task and resolve its step from the UI.
  await page.goto(base + "/ui/tasks/" + failing);
  await page.waitForSelector('svg.dag g.node.state-error[data-step="charge_card"]');
  await page.waitForSelector("#summary .badge.state-error");
  await shot(page, "task-failed");
  await page.click('button[data-action="resolve_manually"][data-step="charge_card"]');
  const dialog = page.locator("dialog#step-dialog");
  check(await dialog.isVisible(), "the confirmation dialog did not open");
  check((await dialog.locator("h2").textContent()).includes("charge_card"), "the dialog does not name the step");
  await dialog.locator('textarea[name="reason"]').fill("Charged by phone; receipt may go out.");
  await page.screenshot({ path: join(out, "confirm-dialog.png") });
  log("screenshot confirm-dialog.png");
  await Promise.all([page.waitForURL("**/ui/tasks/" + failing + "?done=resolve_manually*"), dialog.locator('button[type="submit"]').click()]);
  await page.waitForFunction(() => {
    const st = (n) => document.querySelector(`svg.dag g.node[data-step="${n}"]`)?.getAttribute("class") || "";
    return st("charge_card").includes("state-resolved_manually") && st("send_receipt").includes("state-complete") &&
      document.querySelector("#summary .badge.state-complete") !== null;
  }, null, { timeout: 20000 });
  check(await page.isVisible("p.flash"), "no confirmation banner");
  check((await page.textContent("#audit")).includes("Charged by phone"), "the reason is not in the audit timeline");
  log("failed task resolved from the UI and complete");
  await shot(page, "task-resolved");

  // 5. The dead-letter view lists the other failed step with its actions,
  // and a dead-lettered message whose investigation is recorded here.
  await page.goto(base + "/ui/dlq");
  await page.waitForSelector(`#failed-steps tr[data-step="charge_card"] a[href="/ui/tasks/${failing2}"]`);
  check((await page.$$("#dlq-entries button[data-dialog]")).length === 1, "the pending DLQ entry is not listed");
  await shot(page, "dlq");
  await page.click("#dlq-entries button[data-dialog]");
  const dlqDialog = page.locator("dialog#dlq-dialog");
  await dlqDialog.locator('select[name="resolution_status"]').selectOption("manually_resolved");
  await dlqDialog.locator('textarea[name="notes"]').fill("Message replayed by hand.");
  await Promise.all([page.waitForURL("**/ui/dlq?updated=*"), dlqDialog.locator('button[type="submit"]').click()]);
  check(await page.isVisible("p.flash"), "no banner after the DLQ update");
  check((await page.$$("#dlq-entries button[data-dialog]")).length === 0, "the resolved entry is still pending");
  log("DLQ entry resolved from the UI");

  // 6. The template browser draws the template's graph.
  await page.goto(base + "/ui/templates/fulfillment/order_fulfillment/1.0");
  check((await page.$$("svg.dag g.node")).length === 6, "the template graph has the wrong number of nodes");
  await shot(page, "template");

  check(problems.length === 0, "browser problems:\n" + problems.join("\n"));
  console.log(`ok: dashboard e2e passed in ${((Date.now() - started) / 1000).toFixed(1)}s; screenshots in ${out}`);
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
