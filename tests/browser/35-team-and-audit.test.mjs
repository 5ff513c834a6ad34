// Team and the auditor's view: a lead sees a team member's broken promise on /team and takes
// the complaint over from there; an auditor steps back through that complaint's history (the
// earlier owner, the promise still pending), compares two instants (by a ledger entry and by
// the date-time fields), verifies the chain, and cannot run a command (no forms, a forged post
// refused, nothing appended). axe and screenshots on every page.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  addUser, assertAccessible, awaitWorkItem, assertNoPageProblems, clockTick, ensureOwner, fileComplaint,
  launch, localDateTime, mustRun, newPage, PATIENCE, signIn, snap, timelineLength, visit,
} from './support.mjs';

/**
 * Reloads until `locator` matches something. The read side follows a commit a moment later;
 * what the `obliged clock tick` process appended may wait for the server's own sequencer when
 * other transactions on a busy PostgreSQL hold the ledger's fence back, hence the patience.
 */
async function reloadUntil(page, locator, present = true) {
  const deadline = Date.now() + 2 * PATIENCE;
  while (Date.now() < deadline) {
    if (((await locator.count()) > 0) === present) return;
    await page.waitForTimeout(250);
    await page.reload({ waitUntil: 'load' });
  }
  assert.equal((await locator.count()) > 0, present, `${locator} ${present ? 'never appeared' : 'never went away'}`);
}

/** The text of a row's cell in the auditor's tables, by the fact's key. */
async function cell(page, table, key, column) {
  return (await page.locator(`#${table} tr[data-key="${key}"] td.${column}`).innerText()).trim();
}

describe('team and audit', () => {
  let browser;
  let agent;
  let lead;
  let auditor;
  let complaint;
  let filedAt;

  before(async () => {
    agent = addUser('alice', 'agent');
    lead = addUser('lena', 'lead');
    auditor = addUser('olga', 'auditor');
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('a lead sees a team member\'s broken promise on Team and takes the complaint over', async () => {
    const scenario = 'team-take-over';
    // The agent promises a call back in 20 minutes; the promise clock, run after that, breaks it.
    const work = await newPage(browser);
    await signIn(work, agent);
    filedAt = new Date();
    complaint = await fileComplaint(work, scenario);
    await ensureOwner(work, agent);
    const dueAt = new Date(Math.ceil((Date.now() + 20 * 60_000) / 60_000) * 60_000);
    await mustRun(work, 'make-promise', {
      kind: 'callback', description: 'Call back about the double charge', due_at: localDateTime(dueAt),
    });
    // The promise clock works from the read side: tick once the promise is there.
    await work.goto('/my-work');
    await awaitWorkItem(work, complaint, 'promise');
    clockTick(new Date(dueAt.getTime() + 60 * 60_000));
    await work.context().close();

    const page = await newPage(browser);
    await signIn(page, lead, scenario);
    assert.equal(await page.locator('nav#nav a[href="/team"]').count(), 1, 'a lead has the Team link');
    await visit(page, '/team', scenario, 'team');
    const item = page.locator(`#team-overdue li[data-complaint="${complaint}"][data-kind="promise"]`);
    await reloadUntil(page, item);
    assert.equal(await item.getAttribute('data-person'), agent);
    assert.equal(await item.getAttribute('data-state'), 'broken');
    const row = page.locator(`#team-load tr[data-person="${agent}"]`);
    assert.equal(await row.count(), 1, 'the agent has a row in the load table');
    assert.match(await row.getAttribute('class'), /has-overdue/);
    await snap(page, scenario, 'team-overdue');
    await assertAccessible(page, 'team');

    // The load table's count links to that person's overdue items of that kind.
    await page.goto(`/team?person=${encodeURIComponent(agent)}&kind=promise#overdue`);
    await page.locator('#team-filter').waitFor();
    const people = await page.locator('#team-overdue li').evaluateAll((items) => items.map((li) => li.dataset.person));
    assert.ok(people.length >= 1 && people.every((person) => person === agent), `filtered to the agent: ${people}`);

    // Take over, with a reason, from the overdue list.
    const takeOver = page.locator(`#team-overdue li[data-complaint="${complaint}"] details.take-over`).first();
    await takeOver.locator('summary').click();
    await takeOver.locator('textarea[name="reason"]').fill('The customer has waited long enough; I will call today');
    await snap(page, scenario, 'take-over-form');
    await Promise.all([
      page.waitForURL(new RegExp(`/complaints/${complaint}(\\?[^#]*)?$`)),
      takeOver.locator('button[type="submit"]').click(),
    ]);
    await page.locator('#owner').filter({ hasText: lead }).waitFor();
    const events = await page.locator('#timeline li.event').evaluateAll((items) => items.map((li) => li.dataset.event));
    assert.ok(events.includes('TakenOver'), `TakenOver is on the timeline: ${events}`);
    await snap(page, scenario, 'taken-over');

    // Back on Team, the complaint is the lead's own: no take-over is offered for it any more.
    await page.goto('/team');
    await reloadUntil(page, page.locator(`#team-overdue li[data-complaint="${complaint}"] details.take-over`), false);
    assertNoPageProblems(page);
    await page.context().close();
  });

  it('an agent has no Team page', async () => {
    const page = await newPage(browser);
    await signIn(page, agent);
    assert.equal(await page.locator('nav#nav a[href="/team"]').count(), 0, 'no Team link for an agent');
    const response = await page.goto('/team');
    assert.equal(response.status(), 403);
    await page.context().close();
  });

  it('an auditor steps back through the history, compares two instants and verifies the chain', async () => {
    assert.ok(complaint, 'the take-over scenario ran first');
    const scenario = 'audit';
    const page = await newPage(browser);
    await signIn(page, auditor, scenario);
    await visit(page, `/complaints/${complaint}`, scenario, 'complaint-as-auditor');
    await Promise.all([page.waitForURL(/\/audit/), page.locator('#audit-link').click()]);
    await snap(page, scenario, 'audit-latest');
    await assertAccessible(page, 'audit, latest');
    assert.match(await cell(page, 'facts', '0-owner', 'value'), new RegExp(lead));

    // The take-over's own instant: what changed is the owner, from the agent to the lead.
    const takenOver = page.locator('#ledger li.ledger-entry[data-event="TakenOver"]');
    const takenSeq = Number(await takenOver.getAttribute('data-sequence'));
    await Promise.all([page.waitForURL(/position=/), takenOver.locator('a.ledger-step').click()]);
    assert.equal(Number(await page.locator('#audit-now').getAttribute('data-seq')), takenSeq);
    assert.match(await cell(page, 'changes', '0-owner', 'before'), new RegExp(agent));
    assert.match(await cell(page, 'changes', '0-owner', 'after'), new RegExp(lead));
    // Each event shows its ledger position and hash.
    assert.ok((await takenOver.locator('dd.position').innerText()).trim().match(/^\d+$/), 'a ledger position');
    assert.match((await takenOver.locator('code.hash').innerText()).trim(), /^[0-9a-f]{64}$/);

    // One step back: the agent still owned it.
    await Promise.all([page.waitForURL(/audit\?/), page.locator('#audit-previous').click()]);
    assert.equal(Number(await page.locator('#audit-now').getAttribute('data-seq')), takenSeq - 1);
    assert.match(await cell(page, 'facts', '0-owner', 'value'), new RegExp(agent));
    assert.equal(await page.locator('#ledger li.later').count() >= 1, true, 'the take-over is shown as later');
    await snap(page, scenario, 'audit-before-take-over');

    // Back to the promise: pending then.
    const promised = page.locator('#ledger li.ledger-entry[data-event="PromiseMade"]');
    await Promise.all([page.waitForURL(/position=/), promised.locator('a.ledger-step').click()]);
    const promiseKey = await page.locator('#facts tr[data-key^="2-promise-"]').first().getAttribute('data-key');
    assert.match(await cell(page, 'facts', promiseKey, 'value'), /^Pending/);
    await snap(page, scenario, 'audit-at-promise');

    // From the latest instant, the changes since the promise: owner and the promise's state.
    await Promise.all([page.waitForURL(/audit\?/), page.locator('#audit-last').click()]);
    await Promise.all([
      page.waitForURL(/from_seq=/),
      page.locator('#ledger li.ledger-entry[data-event="PromiseMade"] a.ledger-compare').click(),
    ]);
    assert.match(await cell(page, 'changes', '0-owner', 'before'), new RegExp(agent));
    assert.match(await cell(page, 'changes', '0-owner', 'after'), new RegExp(lead));
    assert.match(await cell(page, 'changes', promiseKey, 'before'), /^Pending/);
    assert.match(await cell(page, 'changes', promiseKey, 'after'), /^Broken/);
    await snap(page, scenario, 'audit-changes-since-promise');
    await assertAccessible(page, 'audit, changes');

    // The same question by date and time: from a minute before filing to a day from now.
    const form = page.locator('#audit-at-form');
    await form.locator('#audit-at').fill(localDateTime(new Date(Date.now() + 86_400_000)));
    await form.locator('#audit-from').fill(localDateTime(new Date(filedAt.getTime() - 60_000)));
    await Promise.all([page.waitForURL(/from_at=/), form.locator('button[type="submit"]').click()]);
    assert.equal(await cell(page, 'changes', '0-owner', 'before'), '(none)');
    assert.match(await cell(page, 'changes', '0-owner', 'after'), new RegExp(lead));
    assert.match(await cell(page, 'changes', promiseKey, 'after'), /^Broken/);
    await snap(page, scenario, 'audit-by-time');

    // A time that is not one is refused beside the form, with a 422.
    const refused = await page.goto(`/complaints/${complaint}/audit?at=yesterday`);
    assert.equal(refused.status(), 422);
    await page.locator('#audit-at-form .refusal').waitFor();

    // Verify the whole chain: intact, with its head hash.
    await page.goto(`/complaints/${complaint}/audit`);
    await Promise.all([
      page.waitForURL(/\/complaints\/.*\/audit/),
      page.locator('#verify-form button[type="submit"]').click(),
    ]);
    await page.locator('#verification-result').waitFor();
    assert.equal(await page.locator('#verification-result').getAttribute('data-intact'), 'true');
    assert.match((await page.locator('#verification-head').innerText()).trim(), /^[0-9a-f]{64}$/);
    assert.match(await page.locator('#verification-when').innerText(), new RegExp(auditor));
    await snap(page, scenario, 'audit-verified');
    await assertAccessible(page, 'audit, verified');
    assertNoPageProblems(page);
    await page.context().close();
  });

  it('an auditor cannot run a command: no forms, a forged post refused, nothing appended', async () => {
    assert.ok(complaint, 'the take-over scenario ran first');
    const page = await newPage(browser);
    await signIn(page, auditor);
    await page.goto(`/complaints/${complaint}`);
    await page.locator('#timeline').waitFor();
    assert.equal(await page.locator('form[id^="cmd-"]').count(), 0, 'no command forms for an auditor');
    const before = await timelineLength(page);
    const csrf = await page.locator('input[name="csrf"]').first().inputValue();
    const forged = await page.request.post(`/complaints/${complaint}/commands/log-contact`, {
      form: { csrf, direction: 'inbound', channel: 'phone', summary: 'Forged by an auditor' },
      maxRedirects: 0,
    });
    assert.equal(forged.status(), 403);
    await page.reload({ waitUntil: 'load' });
    assert.equal(await timelineLength(page), before, 'nothing was appended');
    await page.context().close();
  });
});
