// Opens a report in Debian's headless chromium (puppeteer-core) and prints one JSON object:
// console errors, page errors, requests to anything but file:/data:, first contentful paint,
// axe-core's violations, and what sorting (mouse and keyboard) and filtering did in every table.
// Usage: node check_report.mjs CHROMIUM REPORT.html
import fs from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const [chromium, report] = process.argv.slice(2);
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const browser = await puppeteer.launch({
  executablePath: chromium, headless: true, pipe: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--window-size=1280,1000"],
});
const out = { console_errors: [], page_errors: [], remote_requests: [] };
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1000 });
  page.on("console", (m) => { if (m.type() === "error") out.console_errors.push(m.text()); });
  page.on("pageerror", (e) => out.page_errors.push(String(e)));
  page.on("request", (r) => {
    if (!/^(file|data|blob|about):/.test(r.url())) out.remote_requests.push(r.url());
  });
  await page.goto(pathToFileURL(report).href, { waitUntil: "load", timeout: 120000 });
  await page.waitForFunction(
    () => Array.from(document.querySelectorAll(".ca-chart")).every((d) => d.querySelector("svg.main-svg")),
    { timeout: 60000 });
  out.paint = await page.evaluate(() => {
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    return { fcp_ms: fcp ? fcp.startTime : null,
             charts: document.querySelectorAll(".ca-chart").length,
             tables: document.querySelectorAll("table.ca-table.sortable").length,
             h1: document.querySelectorAll("h1").length,
             main: document.querySelectorAll("main").length,
             headings: Array.from(document.querySelectorAll("h1,h2,h3,h4,h5,h6")).map((h) => Number(h.tagName[1])) };
  });
  await page.addScriptTag({ content: axeSource });
  out.axe = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length,
                                      help: v.help, target: v.nodes[0] && v.nodes[0].target }));
  });
  out.tables = await page.evaluate(tableProbe);
  out.sticky = await page.evaluate(() => {
    // scroll every table that scrolls inside its wrapper: its header must stay at the top
    return Array.from(document.querySelectorAll(".ca-table-wrap"))
      .filter((w) => w.scrollHeight > w.clientHeight + 50 && w.querySelector("thead"))
      .map((w) => {
        w.scrollTop = 200;
        const gap = w.querySelector("thead th").getBoundingClientRect().top - w.getBoundingClientRect().top;
        w.scrollTop = 0;
        return Math.round(gap);
      });
  });
  out.keyboard = await keyboardSort(page);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));

// In the page: for every table, sort each column both ways with its button and record the
// cell texts of version-like columns; filter with the search box by the first row's first word.
function tableProbe() {
  const VERSION = /^\d+(\.\d+)+$/;
  const cellText = (r, i) => (!r.cells[i] || r.cells[i].getAttribute("data-empty") ? null : r.cells[i].textContent.trim());
  return Array.from(document.querySelectorAll(".ca-table-block")).map((block) => {
    const table = block.querySelector("table");
    const rows = () => Array.from(table.tBodies[0].rows);
    const buttons = Array.from(table.tHead.querySelectorAll("button.ca-sort"));
    const result = { caption: table.caption ? table.caption.textContent : "", rows: rows().length,
                     version_columns: [], filter: null };
    buttons.forEach((b, i) => {
      const values = rows().map((r) => cellText(r, i)).filter((v) => v !== null);
      b.click();
      const up = rows().map((r) => cellText(r, i)).filter((v) => v !== null);
      const ariaUp = b.parentNode.getAttribute("aria-sort");
      b.click();
      const down = rows().map((r) => cellText(r, i)).filter((v) => v !== null);
      const ariaDown = b.parentNode.getAttribute("aria-sort");
      if (values.length >= 2 && values.every((v) => VERSION.test(v))) {
        result.version_columns.push({ label: b.textContent, up, down, aria: [ariaUp, ariaDown] });
      }
    });
    const input = block.querySelector("input.ca-filter");
    if (input && rows().length >= 2) {
      const cells = Array.from(rows()[0].cells).map((c) => c.textContent.trim());
      const first = (cells.find((t) => /[a-z]{3}/i.test(t)) || cells[0]).split(/\s+/)[0];
      input.value = first;
      input.dispatchEvent(new Event("input"));
      const visible = rows().filter((r) => !r.hidden);
      result.filter = { word: first, visible: visible.length, total: rows().length,
                        all_match: visible.every((r) => r.textContent.toLowerCase().includes(first.toLowerCase())),
                        hidden_lack_it: rows().filter((r) => r.hidden).every((r) => !r.textContent.toLowerCase().includes(first.toLowerCase())) };
      input.value = "";
      input.dispatchEvent(new Event("input"));
      result.filter.after_clear = rows().filter((r) => !r.hidden).length;
    }
    return result;
  });
}

// With the keyboard only: focus the search box of the first table with a version column, Tab
// to its scroll box and on to the first sort button, press Enter, then Space.
async function keyboardSort(page) {
  const index = await page.evaluate(() => Array.from(document.querySelectorAll(".ca-table-block"))
    .findIndex((b) => b.querySelectorAll("tbody tr").length > 3 && b.querySelector("input.ca-filter")));
  if (index < 0) return null;
  await page.evaluate((i) => document.querySelectorAll(".ca-table-block")[i].querySelector("input.ca-filter").focus(), index);
  const focused = [];
  for (let k = 0; k < 5 && !focused.includes("ca-sort|BUTTON"); k++) {
    await page.keyboard.press("Tab");
    focused.push(await page.evaluate(() => document.activeElement.className + "|" + document.activeElement.tagName));
  }
  const state = () => page.evaluate((i) => {
    const th = document.querySelectorAll(".ca-table-block")[i].querySelector("thead th");
    return th.getAttribute("aria-sort");
  }, index);
  const before = await state();
  await page.keyboard.press("Enter");
  const afterEnter = await state();
  await page.keyboard.press("Space");
  const afterSpace = await state();
  return { focused, before, afterEnter, afterSpace };
}
