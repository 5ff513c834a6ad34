// The promise clock: `obliged clock tick --now <after the due time>` marks a promise broken,
// and My work shows it broken, live and after a reload.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  PATIENCE, addUser, assertNoPageProblems, awaitWorkItem, clockTick, ensureOwner, eventNames,
  fileComplaint,
  launch, localDateTime, mustRun, newPage, signIn, snap, visit, workItems,
} from './support.mjs';

describe('the promise clock', () => {
  let browser;
  let agent;

  before(async () => {
    agent = addUser('clara', 'agent');
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('marks a promise broken once its time has passed; My work shows it broken', async () => {
    const scenario = 'clock';
    const page = await newPage(browser);
    await signIn(page, agent, scenario);
    const id = await fileComplaint(page, scenario);
    await ensureOwner(page, agent);
    const dueAt = new Date(Math.ceil((Date.now() + 20 * 60_000) / 60_000) * 60_000);
    await mustRun(page, 'make-promise', {
      kind: 'refund', description: 'Refund the double charge', due_at: localDateTime(dueAt),
    });

    await visit(page, '/my-work', scenario, 'my-work-before-tick');
    await awaitWorkItem(page, id, 'promise');
    const before = (await workItems(page, id)).find((item) => item.kind === 'promise');
    assert.ok(before, 'the promise is in My work');
    assert.equal(before.overdue, false);

    const ticked = clockTick(new Date(dueAt.getTime() + 60 * 60_000));
    console.log(`clock tick: ${ticked.trim()}`);

    // The open My work follows live (the tick's PromiseBroken reaches the projection, and the
    // page's stream sends the list again); a reload must show it in any case. The tick's
    // instant lies ahead of the wall clock, so the item is broken (data-state, badge) without
    // being overdue by the wall clock.
    const selector = `#my-work li.work-item[data-kind="promise"][data-complaint="${id}"]`;
    const live = await page
      .waitForSelector(`${selector}[data-state="broken"]`, { timeout: PATIENCE })
      .then(() => true, () => false);
    await snap(page, scenario, 'my-work-live-after-tick');
    if (!live) console.log('note: the open My work did not show the broken promise live');

    await visit(page, '/my-work', scenario, 'my-work-after-tick');
    const items = await workItems(page, id);
    const promise = items.find((item) => item.kind === 'promise');
    assert.ok(promise, `the broken promise is still in My work: ${JSON.stringify(items)}`);
    assert.equal(promise.state, 'broken', JSON.stringify(promise));
    assert.ok(await page.locator(selector).getByText('Broken', { exact: true }).isVisible(),
      'a “Broken” badge is visible');

    await visit(page, `/complaints/${id}`, scenario, 'complaint-after-tick');
    const events = await eventNames(page);
    assert.ok(events.includes('PromiseBroken'), `PromiseBroken in the timeline: ${events}`);
    assertNoPageProblems(page);
    await page.context().close();
  });
});
