// Shared helpers of the browser suite: configuration from the environment, Debian's chromium
// through playwright-core, accounts and the promise clock through the `obliged` binary,
// screenshots of every page visited, axe checks, and the console's forms (see the shared
// contract: stable ids `#sign-in-form`, `#cmd-SLUG`, `#timeline`, `#my-work`, ...).
//
// Environment (set by tests/browser_suite.rs, or by hand against a running `obliged serve`):
//   OBLIGED_URL           base URL of the server, e.g. http://127.0.0.1:8080
//   OBLIGED_PASSWORD      the password every account of the suite gets
//   OBLIGED_BIN           the `obliged` executable (for `user add` and `clock tick`)
//   OBLIGED_DATABASE_URL  the server's database (and OBLIGED_MASTER_KEY_FILE, passed through)
//   OBLIGED_SCREENSHOTS   where full-page PNGs go (default tests/browser/screenshots/manual)
//   OBLIGED_TIME_ZONE     the policy's time zone, for datetime-local fields (default UTC)
//   OBLIGED_CHROMIUM      the browser (default /usr/bin/chromium)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: the browser suite needs a running obliged (see tests/browser/support.mjs)`);
  }
  return value;
}

export const config = {
  get baseUrl() {
    return required('OBLIGED_URL').replace(/\/+$/, '');
  },
  get password() {
    return required('OBLIGED_PASSWORD');
  },
  get bin() {
    return required('OBLIGED_BIN');
  },
  get databaseUrl() {
    return required('OBLIGED_DATABASE_URL');
  },
  screenshots: process.env.OBLIGED_SCREENSHOTS || path.join(here, 'screenshots', 'manual'),
  timeZone: process.env.OBLIGED_TIME_ZONE || 'UTC',
  chromium: process.env.OBLIGED_CHROMIUM || '/usr/bin/chromium',
};

/** How long one wait for the page may take before the scenario fails. */
export const PATIENCE = 30_000;

export const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

// ---------------------------------------------------------------------------------------------
// The binary

function obliged(args, input) {
  try {
    return execFileSync(config.bin, args, {
      input,
      encoding: 'utf8',
      env: { ...process.env, OBLIGED_DATABASE_URL: config.databaseUrl, RUST_LOG: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    throw new Error(`obliged ${args.join(' ')} failed (${error.status}): ${error.stderr || error.message}`);
  }
}

/** A unique staff name, e.g. `alice-3f9a1c`: files share one server. */
export function uniqueName(prefix) {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** `obliged user add NAME --role ROLE --password-stdin`; returns the name. */
export function addUser(prefix, role) {
  const name = uniqueName(prefix);
  obliged(['user', 'add', name, '--role', role, '--password-stdin'], `${config.password}\n`);
  return name;
}

/** `obliged clock tick --now INSTANT`: the promise clock, run once at that instant. */
export function clockTick(instant) {
  return obliged(['clock', 'tick', '--now', instant.toISOString()]);
}

// ---------------------------------------------------------------------------------------------
// The browser

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** A new chromium (playwright-core never downloads one; a fresh profile per launch). */
export async function launch() {
  return chromium.launch({ executablePath: config.chromium, headless: true, args: LAUNCH_ARGS });
}

/**
 * A fresh context (cookies, storage) with the base URL, short timeouts, and a watch on the
 * page's console: breaches of the Content Security Policy and uncaught errors are collected in
 * `page.problems` and failed by `assertNoPageProblems`.
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ baseURL: config.baseUrl, locale: 'en-GB', ...options });
  context.setDefaultTimeout(PATIENCE);
  context.setDefaultNavigationTimeout(PATIENCE);
  // Each breach of the CSP, with where it happened (the console's own message says less).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const target = event.target instanceof Element ? event.target.outerHTML.slice(0, 160) : String(event.target);
      console.error(`[csp-violation] ${event.violatedDirective} blocked ${event.blockedURI || '(inline)'} `
        + `at ${event.sourceFile || '?'}:${event.lineNumber}:${event.columnNumber} `
        + `sample=${JSON.stringify(event.sample)} element=${target}`);
    });
  });
  // What htmx did with each request (the console's forms post through htmx when it runs).
  await context.addInitScript(() => {
    window.__htmxEvents = [];
    for (const name of ['htmx:afterSettle', 'htmx:responseError', 'htmx:sendError', 'htmx:swapError']) {
      document.addEventListener(name, (event) => {
        const info = event.detail?.pathInfo ?? {};
        const path = info.requestPath ?? event.detail?.requestConfig?.path ?? '';
        window.__htmxEvents.push({ name, path, status: event.detail?.xhr?.status ?? null });
      });
    }
  });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (message) => {
    const text = message.text();
    if (text.startsWith('[csp-violation]')) page.problems.push(`${page.url()}: ${text}`);
  });
  page.on('pageerror', (error) => page.problems.push(`uncaught: ${error.message}`));
  return page;
}

/** Fails on the problems collected since the last call (and forgets them). */
export function assertNoPageProblems(page) {
  const problems = page.problems.splice(0);
  const distinct = [...new Set(problems.map((p) => p.replace(/ element=.*$/, '')))];
  assert.ok(
    problems.length === 0,
    `the page reported ${problems.length} problem(s), ${distinct.length} distinct; the first:\n`
      + `${problems.slice(0, 3).join('\n')}${distinct.length > 1 ? `\nand: ${distinct.slice(1, 4).join('\n')}` : ''}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Screenshots and accessibility

function fileSafe(text) {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
}

/** A full-page PNG named by scenario and page, in OBLIGED_SCREENSHOTS. */
export async function snap(page, scenario, pageName) {
  mkdirSync(config.screenshots, { recursive: true });
  const file = path.join(config.screenshots, `${fileSafe(scenario)}--${fileSafe(pageName)}.png`);
  // caret 'initial': hiding the caret leaves style="" on every field, which htmx's settle then
  // copies with setAttribute, a breach of the console's CSP the suite itself would have caused.
  await page.screenshot({ path: file, fullPage: true, caret: 'initial' });
  return file;
}

/** Goes to `target`, waits for the load, takes the screenshot; returns the main response. */
export async function visit(page, target, scenario, pageName) {
  const response = await page.goto(target, { waitUntil: 'load' });
  await snap(page, scenario, pageName);
  return response;
}

/** axe with wcag2a and wcag2aa: fails on any serious or critical violation, and prints them. */
export async function assertAccessible(page, label) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length > 0) {
    const report = bad
      .map((v) => {
        const nodes = v.nodes
          .slice(0, 5)
          .map((n) => `      ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ')}`)
          .join('\n');
        return `  [${v.impact}] ${v.id}: ${v.help} (${v.nodes.length} node(s))\n${nodes}`;
      })
      .join('\n');
    console.log(`axe on ${label} (${page.url()}):\n${report}`);
    assert.fail(`axe found ${bad.length} serious/critical violation(s) on ${label}:\n${report}`);
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Signing in

/** Submits the sign-in form; returns the status of the POST's response (303 on success). */
export async function submitSignIn(page, name, password) {
  if (page.url() === 'about:blank' || new URL(page.url()).pathname !== '/sign-in') {
    await page.goto('/sign-in');
  }
  await page.locator('#sign-in-form #name').fill(name);
  await page.locator('#sign-in-form #password').fill(password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/sign-in'),
    page.locator('#sign-in-submit').click(),
  ]);
  await page.waitForLoadState('load');
  return response.status();
}

/** Signs in and insists on landing on My work as that person. */
export async function signIn(page, name, scenario) {
  await page.goto('/sign-in');
  if (scenario) await snap(page, scenario, 'sign-in');
  const status = await submitSignIn(page, name, config.password);
  assert.equal(status, 303, `signing in as ${name} answered ${status}`);
  await page.waitForURL(/\/my-work$/);
  await page.locator('#whoami').filter({ hasText: name }).waitFor();
  if (scenario) await snap(page, scenario, 'my-work-after-sign-in');
}

// ---------------------------------------------------------------------------------------------
// Complaints

/** The datetime-local value (YYYY-MM-DDTHH:MM) of an instant in the policy's time zone. */
export function localDateTime(instant, timeZone = config.timeZone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** The `HH:MM` of an instant in the policy's time zone (how the absolute time reads). */
export function localClock(instant, timeZone = config.timeZone) {
  return localDateTime(instant, timeZone).slice(11);
}

/** Fills the named fields of a form: selects, checkboxes, radios and text alike. */
export async function fillForm(form, fields) {
  for (const [name, value] of Object.entries(fields)) {
    const fieldset = form.locator(`[name="${name}"]`);
    const count = await fieldset.count();
    assert.ok(count > 0, `the form has no field named ${name}`);
    const field = fieldset.first();
    const tag = await field.evaluate((el) => el.tagName.toLowerCase());
    const type = ((await field.getAttribute('type')) || '').toLowerCase();
    if (tag === 'select') {
      await field.selectOption(String(value));
    } else if (type === 'checkbox') {
      await field.setChecked(Boolean(value));
    } else if (type === 'radio') {
      await form.locator(`[name="${name}"][value="${value}"]`).check();
    } else {
      await field.fill(String(value));
    }
  }
}

async function submitButton(form) {
  const button = form.locator('button[type=submit], input[type=submit], button:not([type])').first();
  await button.waitFor();
  return button;
}

/** Files a complaint through /complaints/new; returns its id (the page stays on it). */
export async function fileComplaint(page, scenario, overrides = {}) {
  await visit(page, '/complaints/new', scenario, 'new-complaint');
  const form = page.locator('form#new-complaint');
  await fillForm(form, {
    customer_reference: `CUST-${randomBytes(3).toString('hex')}`,
    customer_name: 'Margaretha Vlieland',
    customer_email: 'm.vlieland@example.org',
    customer_phone: '+31 20 555 0199',
    channel: 'phone',
    category: 'billing',
    description: 'Charged twice for the November invoice',
    ...overrides,
  });
  await (await submitButton(form)).click();
  // The contract's 303 goes to /complaints/{id}; a query (e.g. ?done=new) is allowed.
  await page.waitForURL(new RegExp(`/complaints/${UUID}(\\?[^#]*)?$`));
  await page.locator('#timeline').waitFor();
  await snap(page, scenario, 'complaint-filed');
  return new URL(page.url()).pathname.split('/').pop();
}

export async function timelineLength(page) {
  return page.locator('#timeline li.event').count();
}

export async function eventNames(page) {
  return page.locator('#timeline li.event').evaluateAll((items) => items.map((li) => li.dataset.event));
}

/**
 * Fills and submits `#cmd-SLUG` on the open complaint page, and waits until the server's answer
 * is on the page: a new document (a plain form post), or htmx done with the request (settled,
 * or given up on an error status). Returns `{ status, refusal }`: the POST's status and the
 * text of `#cmd-SLUG .refusal`, or null when there is none.
 */
export async function runCommand(page, slug, fields = {}) {
  const form = page.locator(`form#cmd-${slug}`);
  await form.waitFor({ state: 'attached' });
  // Forms grouped in a closed <details> are opened first, as a person would.
  const details = page.locator(`details:has(form#cmd-${slug})`);
  if ((await details.count()) > 0 && !(await details.first().evaluate((d) => d.open))) {
    await details.first().locator('summary').first().click();
  }
  await fillForm(form, fields);
  const seen = await page.evaluate(() => {
    window.__sameDocument = true;
    return window.__htmxEvents.length;
  });
  const [response] = await Promise.all([
    page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(`/commands/${slug}`),
    ),
    (await submitButton(form)).click(),
  ]);
  const status = response.status();
  await page.waitForFunction(
    ({ slug, seen }) => window.__sameDocument !== true
      || window.__htmxEvents.slice(seen).some((e) => e.path.includes(`/commands/${slug}`)),
    { slug, seen },
    { timeout: PATIENCE },
  );
  await page.waitForLoadState('load');
  const refusal = page.locator(`#cmd-${slug} .refusal`);
  const text = (await refusal.count()) > 0 ? (await refusal.first().innerText()).trim() : '';
  return { status, refusal: text === '' ? null : text };
}

/**
 * Events the promise clock appends by itself (`obliged serve` runs it): a promise due within
 * the warning offset reaches its first rung at once. "Nothing appended" disregards them.
 */
export const CLOCK_EVENTS = new Set(['RungReached', 'ReminderRecorded', 'PromiseBroken']);

/** The timeline's event names less those the clock appends by itself. */
export async function peopleEvents(page) {
  return (await eventNames(page)).filter((name) => !CLOCK_EVENTS.has(name));
}

/** Runs a command that must succeed. */
export async function mustRun(page, slug, fields = {}) {
  const result = await runCommand(page, slug, fields);
  assert.equal(result.refusal, null, `${slug} was refused (${result.status}): ${result.refusal}`);
  assert.ok([200, 303].includes(result.status), `${slug} answered ${result.status}`);
  return result;
}

/** Makes sure `owner` owns the open complaint (assigns when nobody does yet). */
export async function ensureOwner(page, owner) {
  const current = (await page.locator('#owner').innerText()).trim();
  if (!current.includes(owner)) {
    await mustRun(page, 'assign-owner', { owner });
    await page.locator('#owner').filter({ hasText: owner }).waitFor();
  }
}

/** The work items of `complaint` on /my-work, as plain objects. */
/** Waits until the open My work lists an item of `kind` for `complaint`: My work reads the
 * projection, which follows a command a moment after it commits, and the page follows it live. */
export async function awaitWorkItem(page, complaint, kind) {
  await page
    .locator(`#my-work li.work-item[data-kind="${kind}"][data-complaint="${complaint}"]`)
    .first()
    .waitFor({ timeout: PATIENCE });
}

export async function workItems(page, complaint) {
  return page.locator(`#my-work li.work-item[data-complaint="${complaint}"]`).evaluateAll((items) =>
    items.map((li) => ({
      kind: li.dataset.kind,
      overdue: li.classList.contains('overdue'),
      state: li.dataset.state ?? null,
      text: li.innerText,
      datetime: li.querySelector('time.countdown')?.getAttribute('datetime') ?? null,
      countdown: li.querySelector('time.countdown')?.innerText.trim() ?? null,
    })),
  );
}
