// One complaint through the console: filed, an inbound request logged, a promise made that shows
// in My work with its countdown; closing refused beside its form with nothing appended; a forged
// POST without the csrf field refused.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import {
  addUser, assertNoPageProblems, awaitWorkItem, eventNames, fileComplaint, launch, localClock,
  localDateTime,
  mustRun, newPage, peopleEvents, runCommand, signIn, snap, timelineLength, visit, workItems,
} from './support.mjs';

describe('a complaint', () => {
  let browser;
  let agent;
  let page;
  let id;
  let dueAt;

  before(async () => {
    agent = addUser('alice', 'agent');
    browser = await launch();
    page = await newPage(browser);
    await signIn(page, agent, 'complaint');
  });

  after(async () => {
    await browser?.close();
  });

  it('is filed through /complaints/new', async () => {
    id = await fileComplaint(page, 'complaint');
    assert.ok((await eventNames(page)).includes('ComplaintFiled'), 'the timeline shows the filing');
    await page.locator('#complaint-header #status').waitFor();
    await page.locator('#complaint-header #owner').waitFor({ state: 'attached' });
    const forms = page.locator('form.command');
    const count = await forms.count();
    assert.ok(count > 0, 'the complaint page offers commands');
    for (const [i, form] of (await forms.all()).entries()) {
      const what = (await form.getAttribute('id')) ?? `form ${i}`;
      assert.ok(what.startsWith('cmd-'), `${what}: a command form's id is cmd-SLUG`);
      assert.ok(await form.getAttribute('data-command'), `${what} has data-command`);
      assert.equal(await form.getAttribute('method'), 'post', `${what} method`);
      assert.equal(await form.getAttribute('action'), `/complaints/${id}/commands/${what.slice(4)}`, `${what} action`);
      assert.equal(await form.locator('input[type=hidden][name=csrf]').count(), 1, `${what} carries csrf`);
      assert.equal(await form.locator('input[type=hidden][name=idempotency_key]').count(), 1, `${what} carries idempotency_key`);
    }
    assert.equal(await page.locator('form#cmd-log-contact').getAttribute('data-command'), 'LogContact');
    assertNoPageProblems(page);
  });

  it('logs an inbound request, which opens an obligation', async () => {
    const before = await timelineLength(page);
    await mustRun(page, 'log-contact', {
      direction: 'inbound',
      channel: 'phone',
      summary: 'Customer asks when the double charge will be refunded',
      request: true,
    });
    await page.goto(`/complaints/${id}`);
    const events = await eventNames(page);
    assert.ok(events.length > before, 'the timeline grew');
    assert.ok(events.includes('ContactLogged'), `ContactLogged in ${events}`);
    assert.ok(events.includes('ObligationOpened'), `ObligationOpened in ${events}`);
    await page.locator('#owed li[data-kind="obligation"]').first().waitFor();
    await snap(page, 'complaint', 'after-log-contact');
    assertNoPageProblems(page);
  });

  it('makes a promise due soon, which My work shows with its countdown and absolute time', async () => {
    await page.goto(`/complaints/${id}`);
    // Owner first: My work lists what the signed-in person owns.
    const owner = (await page.locator('#owner').innerText()).trim();
    if (!owner.includes(agent)) await mustRun(page, 'assign-owner', { owner: agent });
    dueAt = new Date(Math.ceil((Date.now() + 40 * 60_000) / 60_000) * 60_000);
    await mustRun(page, 'make-promise', {
      kind: 'callback',
      description: 'Call back with the refund date',
      due_at: localDateTime(dueAt),
    });
    await page.goto(`/complaints/${id}`);
    assert.ok((await eventNames(page)).includes('PromiseMade'));
    await page.locator('#owed li[data-kind="promise"]').first().waitFor();
    await snap(page, 'complaint', 'after-make-promise');

    await visit(page, '/my-work', 'complaint', 'my-work');
    await awaitWorkItem(page, id, 'promise');
    const items = await workItems(page, id);
    const promise = items.find((item) => item.kind === 'promise');
    assert.ok(promise, `a promise item for ${id} in My work: ${JSON.stringify(items)}`);
    assert.equal(promise.overdue, false, 'not overdue yet');
    assert.ok(promise.datetime, 'time.countdown has a datetime');
    assert.equal(Math.abs(new Date(promise.datetime) - dueAt) < 60_000, true,
      `countdown datetime ${promise.datetime} is the due time ${dueAt.toISOString()}`);
    assert.ok(promise.countdown, 'the countdown has its relative text');
    assert.ok(promise.text.includes(localClock(dueAt)),
      `the absolute time ${localClock(dueAt)} is beside the countdown: ${JSON.stringify(promise.text)}`);

    // Soonest first.
    const all = await page.locator('#my-work li.work-item time.countdown').evaluateAll(
      (times) => times.map((t) => t.getAttribute('datetime')));
    const instants = all.map((t) => new Date(t).getTime());
    assert.deepEqual(instants, [...instants].sort((a, b) => a - b), `My work is soonest first: ${all}`);
    assertNoPageProblems(page);
  });

  it('refuses to close, shows the reason beside the form, and appends nothing', async () => {
    await page.goto(`/complaints/${id}`);
    const before = await peopleEvents(page);
    const { status, refusal } = await runCommand(page, 'close');
    await snap(page, 'complaint', 'close-refused');
    assert.equal(status, 422, 'a refused command answers 422');
    assert.ok(refusal, `the reason is shown in #cmd-close .refusal (status ${status})`);
    assert.equal(await page.locator('#cmd-close .refusal').first().getAttribute('role'), 'alert');
    assert.deepEqual(await peopleEvents(page), before, 'the page shows nothing appended');
    await page.goto(`/complaints/${id}`);
    assert.deepEqual(await peopleEvents(page), before, 'the server appended nothing');
    assertNoPageProblems(page);
  });

  it('keeps the typed values of a refused command', async () => {
    // Handing back for a third-party dependency is always refused (waiting on a third party is
    // our follow-up, never the customer's job), whatever the state.
    await page.goto(`/complaints/${id}`);
    const before = await peopleEvents(page);
    const typed = 'Waiting for the payment provider to confirm';
    const { status, refusal } = await runCommand(page, 'hand-back-to-customer', {
      reason: 'third-party-dependency',
      note: typed,
    });
    await snap(page, 'complaint', 'hand-back-refused');
    assert.equal(status, 422);
    assert.ok(refusal, `the reason is shown in #cmd-hand-back-to-customer .refusal (status ${status})`);
    const form = page.locator('#cmd-hand-back-to-customer');
    assert.equal(await form.locator('[name="note"]').inputValue(), typed, 'the typed note is kept');
    assert.equal(await form.locator('[name="reason"]').inputValue(), 'third-party-dependency', 'the chosen reason is kept');
    assert.deepEqual(await peopleEvents(page), before, 'the page shows nothing appended');
    await page.goto(`/complaints/${id}`);
    assert.deepEqual(await peopleEvents(page), before, 'the server appended nothing');
    assertNoPageProblems(page);
  });

  it('refuses a forged POST without the csrf field (403) and appends nothing', async () => {
    await page.goto(`/complaints/${id}`);
    const before = await peopleEvents(page);
    const target = `/complaints/${id}/commands/log-contact`;
    const forged = {
      direction: 'inbound', channel: 'phone', summary: 'forged', idempotency_key: randomUUID(),
    };
    // With the session cookie, without csrf.
    const response = await page.request.post(target, { form: forged, maxRedirects: 0 });
    assert.equal(response.status(), 403, 'no csrf field: 403');
    // From the page itself, with a made-up token.
    const status = await page.evaluate(async ({ target, forged }) => {
      const body = new URLSearchParams({ ...forged, csrf: 'forged-token', idempotency_key: crypto.randomUUID() });
      const answer = await fetch(target, { method: 'POST', body, redirect: 'manual', credentials: 'same-origin' });
      return answer.status;
    }, { target, forged });
    assert.equal(status, 403, 'a wrong csrf token: 403');
    await visit(page, `/complaints/${id}`, 'complaint', 'after-forged-post');
    assert.deepEqual(await peopleEvents(page), before, 'the server appended nothing');
    assertNoPageProblems(page);
  });
});
