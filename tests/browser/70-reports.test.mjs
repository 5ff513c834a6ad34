// Reports: a figure of the accountability report drills down to its complaints and from there
// to the event that made it count (a link to the auditor's view at that ledger position).
// axe on the report and on the drill-down.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  UUID, addUser, assertAccessible, assertNoPageProblems, clockTick, ensureOwner, fileComplaint,
  launch, localDateTime, mustRun, newPage, signIn, snap, visit,
} from './support.mjs';

/** The date (YYYY-MM-DD) `days` from now in the policy's zone. */
function day(days) {
  return localDateTime(new Date(Date.now() + days * 86_400_000)).slice(0, 10);
}

describe('reports', () => {
  let browser;
  let agent;
  let lead;

  before(async () => {
    agent = addUser('rita', 'agent');
    lead = addUser('leo', 'lead');
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('a report figure drills down to its complaints and from there to the event that made it count', async () => {
    const scenario = 'reports';
    // The agent promises a refund in 20 minutes; the promise clock, run after that, breaks it.
    const work = await newPage(browser);
    await signIn(work, agent);
    const id = await fileComplaint(work, scenario);
    await ensureOwner(work, agent);
    const dueAt = new Date(Math.ceil((Date.now() + 20 * 60_000) / 60_000) * 60_000);
    await mustRun(work, 'make-promise', {
      kind: 'refund', description: 'Refund the double charge', due_at: localDateTime(dueAt),
    });
    clockTick(new Date(dueAt.getTime() + 60 * 60_000));
    await work.context().close();

    // The lead asks for the report by owner, from yesterday to the day after tomorrow (the
    // clock's tick lies ahead of the wall clock), through the form.
    const page = await newPage(browser);
    await signIn(page, lead, scenario);
    await visit(page, '/reports', scenario, 'reports-default');
    await assertAccessible(page, 'reports');
    const form = page.locator('form#report-form');
    await form.locator('#report-from').fill(day(-1));
    await form.locator('#report-to').fill(day(2));
    await form.locator('#group-by-period').setChecked(false);
    await form.locator('#group-by-owner').setChecked(true);
    await form.locator('#report-submit').click();
    await page.waitForURL(/\/reports\?/);

    // The report is read from the ledger, which follows a command a moment after it commits:
    // reload until the agent's broken promise is in the table.
    const cell = page.locator(`#report-table a.figure-link[data-group="${agent}"][data-figure="promises_broken"]`);
    for (let attempt = 0; attempt < 20 && (await cell.getAttribute('data-value').catch(() => null)) !== '1'; attempt += 1) {
      await page.reload({ waitUntil: 'load' });
    }
    assert.equal(await cell.getAttribute('data-value'), '1', 'one broken promise for the agent');
    await snap(page, scenario, 'reports-by-owner');
    const chart = page.locator('figure.report-chart svg[role="img"]');
    assert.equal(await chart.getAttribute('aria-labelledby'), 'report-chart-title');
    assert.ok((await page.locator('#report-chart-title').textContent()).length > 0, 'the chart has a title');
    await assertAccessible(page, 'reports by owner');

    await cell.click();
    await page.waitForURL(/\/reports\/evidence\?/);
    await snap(page, scenario, 'evidence');
    const rows = page.locator('#evidence tr.evidence-item');
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute('data-complaint'), id);
    assert.equal(await rows.first().locator('a.complaint-link').getAttribute('href'), `/complaints/${id}`);
    const positions = rows.first().locator('a.position-link');
    assert.equal(await positions.count(), 2, 'the promise made and the promise broken');
    for (const link of await positions.all()) {
      const position = await link.getAttribute('data-position');
      assert.match(position, /^[0-9]+$/);
      assert.equal(
        await link.getAttribute('href'),
        `/complaints/${id}/audit?position=${position}#entry-${position}`,
      );
    }
    assert.match(`/complaints/${id}`, new RegExp(`^/complaints/${UUID}$`));
    await assertAccessible(page, 'evidence');
    assertNoPageProblems(page);
    await page.context().close();
  });
});
