// Checks the built book (book/build) in a real browser: headless Chromium
// driven by playwright-core. Run through tools/check-book, which builds the
// book first; or directly: node tools/browser-check/check.mjs [book/build].
//
// It serves the book on 127.0.0.1, opens every page and asserts:
//   - math was rendered by KaTeX: every page whose source has math holds
//     .katex elements, none holds a .katex-error or raw $…$ / $$…$$ text,
//     and the KaTeX fonts really loaded;
//   - every image loaded (complete, with a non-zero natural width);
//   - every internal link points at an existing page and, with a #fragment,
//     at an element with that id;
//   - the step-through advances on click, reaches the reverse sweep and
//     shows a skip's gradient being added to the branch's, over http and
//     from file://;
//   - no code block in a chapter scrolls sideways in a 1200 px wide window,
//     neither a listing nor a captured output in a `text` block (solutions
//     opened first, so their code is measured too), and no experiment's
//     outcome (a lab-written output/*.md, in a div.outcome) does either;
//   - no page logged an error, and no request left the machine.
// Any failure is listed and the exit code is 1.

import { chromium } from "playwright-core";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const build = path.resolve(process.argv[2] ?? path.join(repo, "book/build"));
const source = path.join(repo, "book/src");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

const problems = [];
const fail = (where, what) => problems.push(`${where}: ${what}`);

if (!fs.existsSync(path.join(build, "index.html"))) {
    console.error(`no book at ${build}; build it first with tools/book`);
    process.exit(2);
}

// Every HTML page of the book, relative to the build folder.
function pages(dir, prefix = "") {
    const out = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const rel = prefix + entry.name;
        if (entry.isDirectory()) out.push(...pages(path.join(dir, entry.name), rel + "/"));
        else if (entry.name.endsWith(".html")) out.push(rel);
    }
    return out;
}
// 404.html is written for a server root (<base href="/">), toc.html is
// mdBook's no-script fallback; both are mdBook's, not chapters.
const all = pages(build).filter((p) => p !== "404.html" && p !== "toc.html");

// Does a chapter's Markdown source hold math? (print.html holds every chapter.)
function sourceHasMath(page) {
    if (page === "print.html") return true;
    // mdBook writes the first chapter a second time as index.html.
    const md = path.join(source, page === "index.html" ? "introduction.md" : page.replace(/\.html$/, ".md"));
    if (!fs.existsSync(md)) return false;
    const file = md;
    const text = fs.readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "").replace(/`[^`]*`/g, "");
    return /(^|[^\\])\$/.test(text);
}

// A static server for the build folder, on loopback only.
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
    ".png": "image/png", ".woff2": "font/woff2", ".woff": "font/woff", ".json": "application/json",
    ".txt": "text/plain", ".csv": "text/csv", ".ico": "image/x-icon" };
const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    let file = path.join(build, decodeURIComponent(url.pathname));
    if (!file.startsWith(build)) { res.writeHead(403).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    if (!fs.existsSync(file)) { res.writeHead(404).end("not found"); return; }
    res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions"],
});
// A 1200 px wide window: the book's listings must fit in its column there.
const viewportWidth = 1200;
const context = await browser.newContext({ viewport: { width: viewportWidth, height: 900 } });

// Every request goes through here: loopback and local files pass, anything
// else is recorded and refused.
const outside = new Set();
await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    const local = url.protocol === "file:" || url.protocol === "data:" || url.protocol === "blob:" ||
        (url.protocol === "http:" && url.host === new URL(origin).host);
    if (local) return route.continue();
    outside.add(url.href);
    return route.abort();
});

const ids = new Map(); // page -> Set of element ids
const links = []; // [page, href]
let mathPages = 0, katexCount = 0, imageCount = 0, codeBlocksMeasured = 0, codeBlocksWide = 0;
let outcomesMeasured = 0, outcomesWide = 0;

// Runs inside the page: what the checks need, read in one go.
// The code blocks of the page that scroll sideways: for each, its width and
// the width it is shown in, and its first line. Closed <details> (the
// solutions) are opened first, so their code is laid out and measured.
function wideCodeBlocks() {
    for (const details of document.querySelectorAll("main details")) details.open = true;
    const wide = [];
    for (const pre of document.querySelectorAll("main pre")) {
        // mdBook scrolls the <code> inside the <pre>; check both.
        const box = [pre, ...pre.querySelectorAll(":scope > code")]
            .find((e) => e.scrollWidth > e.clientWidth + 1);
        if (!box) continue;
        const code = pre.querySelector("code");
        const text = (code ?? pre).innerText;
        const first = text.split("\n").find((l) => l.trim() !== "") ?? "";
        // A `text` block holds a run's captured output, not a listing.
        const output = code?.classList.contains("language-text") ?? false;
        wide.push({ scrollWidth: box.scrollWidth, clientWidth: box.clientWidth, output,
            longest: Math.max(...text.split("\n").map((l) => [...l].length)), first: first.trim() });
    }
    return wide;
}

// The experiments' outcomes on the page (output/*.md, each in a
// div.outcome): how many, and those whose table (or anything else in them)
// is wider than the column, with the title's first words.
function wideOutcomes() {
    const outcomes = [...document.querySelectorAll("main .outcome")];
    const wide = [];
    for (const outcome of outcomes) {
        const box = [outcome, ...outcome.querySelectorAll("*")]
            .find((e) => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0);
        const main = document.querySelector("main");
        const overflows = outcome.getBoundingClientRect().right > main.getBoundingClientRect().right + 1;
        if (!box && !overflows) continue;
        wide.push({ scrollWidth: box?.scrollWidth ?? outcome.scrollWidth,
            clientWidth: box?.clientWidth ?? outcome.clientWidth,
            first: outcome.innerText.trim().split("\n")[0].slice(0, 60) });
    }
    return { count: outcomes.length, wide };
}

function readPage() {
    const main = document.querySelector("main") ?? document.body;
    // Text outside code and rendered math, where raw TeX would show.
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    let text = "";
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.parentElement.closest("code, pre, .katex, script, style")) text += node.nodeValue + "\u0000";
    }
    const katex = document.querySelectorAll(".katex");
    const images = [...document.querySelectorAll("main img")].map((img) => ({
        src: img.getAttribute("src"), ok: img.complete && img.naturalWidth > 0,
    }));
    const hrefs = [...document.querySelectorAll("a[href]")].map((a) => a.getAttribute("href"));
    const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
    const mathFont = katex.length ? getComputedStyle(katex[0]).fontFamily : "";
    const fontsLoaded = katex.length ? document.fonts.check("16px KaTeX_Main") &&
        [...document.fonts].some((f) => f.family.replace(/"/g, "") === "KaTeX_Main" && f.status === "loaded") : true;
    return { text, katex: katex.length, katexErrors: document.querySelectorAll(".katex-error").length,
        images, hrefs, ids, mathFont, fontsLoaded };
}

async function checkPage(page, rel, url, { layout = true } = {}) {
    const errors = [];
    page.removeAllListeners("pageerror");
    page.removeAllListeners("console");
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    const response = await page.goto(url, { waitUntil: "load" });
    if (response && !response.ok()) fail(rel, `HTTP ${response.status()}`);
    // A page's own scripts may still be settling after "load"; if the
    // document is replaced under the evaluation, wait and read it again.
    let facts;
    for (let attempt = 1; ; attempt++) {
        try {
            await page.waitForLoadState("networkidle");
            await page.evaluate(() => document.fonts.ready);
            facts = await page.evaluate(readPage);
            break;
        } catch (e) {
            if (attempt === 3) throw new Error(`${rel}: could not read the page: ${e.message}`);
        }
    }
    if (sourceHasMath(rel)) {
        mathPages++;
        if (facts.katex === 0) fail(rel, "the source has math but the page holds no .katex element");
    }
    katexCount += facts.katex;
    if (facts.katexErrors) fail(rel, `${facts.katexErrors} KaTeX error element(s)`);
    if (facts.text.includes("$$")) fail(rel, "raw $$ left in the text");
    const inline = facts.text.split("\u0000").find((t) => /(^|[^\\])\$[^\s$][^$]*\$/.test(t));
    if (inline) fail(rel, `raw inline math left in the text: ${JSON.stringify(inline.slice(0, 80))}`);
    if (facts.katex && !facts.mathFont.includes("KaTeX")) fail(rel, `math is not set in KaTeX's font (${facts.mathFont})`);
    if (facts.katex && !facts.fontsLoaded) fail(rel, "the KaTeX fonts did not load");
    for (const img of facts.images) {
        imageCount++;
        if (!img.ok) fail(rel, `image ${img.src} did not load`);
    }
    for (const e of errors) fail(rel, `page error: ${e}`);
    // print.html repeats every chapter; a chapter's blocks are reported once.
    if (layout && rel !== "print.html") {
        for (const block of await page.evaluate(wideCodeBlocks)) {
            codeBlocksWide++;
            // A captured output (a `text` block) fails like a listing: show
            // the example's outcome as Markdown (output/*.md) and link the
            // full text, or a narrow excerpt of it (issue 15, item 5).
            const what = block.output ? "a captured output" : "a code block";
            fail(rel, `${what} scrolls sideways at ${viewportWidth} px (${block.scrollWidth} px ` +
                `of text in ${block.clientWidth} px; its longest line is ${block.longest} characters), ` +
                `starting ${JSON.stringify(block.first.slice(0, 80))}`);
        }
        codeBlocksMeasured += await page.locator("main pre").count();
        const outcomes = await page.evaluate(wideOutcomes);
        outcomesMeasured += outcomes.count;
        for (const o of outcomes.wide) {
            outcomesWide++;
            fail(rel, `an experiment's outcome scrolls sideways at ${viewportWidth} px ` +
                `(${o.scrollWidth} px in ${o.clientWidth} px), starting ${JSON.stringify(o.first)}`);
        }
    }
    ids.set(rel, new Set(facts.ids));
    for (const href of facts.hrefs) links.push([rel, href]);
}

const page = await context.newPage();
for (const rel of all) await checkPage(page, rel, `${origin}/${rel}`);
if (codeBlocksMeasured === 0) fail("book", "no code block was measured; the width check would pass vacuously");
if (outcomesMeasured === 0) fail("book", "no experiment's outcome was measured; the width check would pass vacuously");

// Internal links: an existing page, and an existing id for a #fragment.
let internal = 0;
for (const [from, href] of links) {
    if (/^[a-z]+:/i.test(href) && !href.startsWith(origin)) continue; // mailto:, https: — links, not requests
    const url = new URL(href, `${origin}/${from}`);
    let target = decodeURIComponent(url.pathname).replace(/^\//, "");
    if (target === "" || target.endsWith("/")) target += "index.html";
    internal++;
    const file = path.join(build, target);
    if (!fs.existsSync(file)) { fail(from, `broken link ${href} (no ${target})`); continue; }
    const fragment = decodeURIComponent(url.hash.replace(/^#/, ""));
    if (fragment && target.endsWith(".html")) {
        const known = ids.get(target);
        if (known && !known.has(fragment)) fail(from, `broken link ${href}: ${target} has no id "${fragment}"`);
    }
}

// The step-through: over http and from disk.
let stepperRuns = 0;
async function checkStepper(url, where) {
    await page.goto(url, { waitUntil: "load" });
    const stepper = page.locator(".stepper").first();
    if ((await stepper.count()) === 0) { fail(where, "no .stepper on the page"); return; }
    if ((await page.locator(".stepper-node").count()) === 0) {
        fail(where, `the step-through did not start: ${await stepper.innerText()}`);
        return;
    }
    const rows = await page.locator(".stepper-node").count();
    const state = async () => ({
        step: Number(await stepper.getAttribute("data-step")),
        label: await page.locator(".stepper-label").innerText(),
        active: await page.locator(".stepper-node.active text").first().textContent(),
    });
    const first = await state();
    await page.locator(".stepper-next").click();
    const second = await state();
    if (second.step !== first.step + 1 || second.label === first.label || second.active === first.active) {
        fail(where, `clicking Next did not advance the step-through (${JSON.stringify(first)} -> ${JSON.stringify(second)})`);
        return;
    }
    let sawBackward = false, sawSkipSum = false;
    for (let s = second.step; s < 2 * rows - 1; s++) {
        await page.locator(".stepper-next").click();
        const label = await page.locator(".stepper-label").innerText();
        if (label.includes("backward")) sawBackward = true;
        if ((await page.locator(".stepper-sum").count()) > 0 && (await page.locator(".stepper-from.skip").count()) > 0) sawSkipSum = true;
    }
    const last = await state();
    if (last.step !== 2 * rows - 1) fail(where, `expected to reach step ${2 * rows - 1}, stopped at ${last.step}`);
    if (!sawBackward) fail(where, "the step-through never reached the reverse sweep");
    if (!sawSkipSum) fail(where, "no step showed the skip's gradient being added to the branch's");
    if (!(await page.locator(".stepper-next").isDisabled())) fail(where, "Next is still enabled at the last step");
    await page.locator(".stepper-first").click();
    if ((await state()).step !== 0) fail(where, "Start did not return to step 0");
    stepperRuns++;
}
const stepperPages = all.filter((rel) => fs.readFileSync(path.join(build, rel), "utf8").includes('class="stepper"') && rel !== "print.html");
if (stepperPages.length === 0) fail("book", "no page holds a step-through");
for (const rel of stepperPages) {
    await checkStepper(`${origin}/${rel}`, `${rel} (http)`);
    await checkStepper(pathToFileURL(path.join(build, rel)).href, `${rel} (file://)`);
}

// One chapter with math from disk, to show the vendored KaTeX CSS and fonts
// work without a server.
const mathFromDisk = all.find((rel) => rel !== "print.html" && sourceHasMath(rel));
if (mathFromDisk) {
    const before = problems.length;
    await checkPage(page, `${mathFromDisk} (file://)`, pathToFileURL(path.join(build, mathFromDisk)).href,
        { layout: false });
    if (problems.length === before) console.log(`math renders from file:// (${mathFromDisk})`);
}

await browser.close();
server.close();

for (const url of outside) fail("network", `a request tried to leave the machine: ${url}`);

console.log(`pages: ${all.length}, pages with math: ${mathPages}, KaTeX elements: ${katexCount}, ` +
    `images: ${imageCount}, internal links: ${internal}, step-through runs: ${stepperRuns}, ` +
    `code blocks measured at ${viewportWidth} px: ${codeBlocksMeasured} (${codeBlocksWide} scroll sideways), ` +
    `outcomes measured: ${outcomesMeasured} (${outcomesWide} scroll sideways), ` +
    `outside requests: ${outside.size}`);
if (problems.length) {
    console.error(`\n${problems.length} problem(s):\n` + problems.map((p) => "  " + p).join("\n"));
    process.exit(1);
}
console.log("book check passed");
