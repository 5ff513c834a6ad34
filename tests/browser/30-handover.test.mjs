// A handover between two people in two browsers: alice offers, bob sees it in My work and
// accepts, and alice's open complaint page follows live, without a reload.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  PATIENCE, addUser, assertNoPageProblems, awaitWorkItem, ensureOwner, fileComplaint, launch,
  mustRun, newPage,
  signIn, snap, visit, workItems,
} from './support.mjs';

describe('handover', () => {
  let browser;
  let alice;
  let bob;

  before(async () => {
    alice = addUser('alice', 'agent');
    bob = addUser('bob', 'agent');
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('offered by alice, accepted by bob, shown live on alice\'s open page', async () => {
    const scenario = 'handover';
    const alicePage = await newPage(browser);
    await signIn(alicePage, alice, `${scenario}-alice`);
    const id = await fileComplaint(alicePage, `${scenario}-alice`);
    await ensureOwner(alicePage, alice);
    await mustRun(alicePage, 'offer-handover', { to: bob, note: 'Bob knows this billing system' });

    // Alice keeps the complaint page open, subscribed to its live updates.
    const live = alicePage.waitForResponse((r) => new URL(r.url()).pathname === `/complaints/${id}/live`);
    await visit(alicePage, `/complaints/${id}`, `${scenario}-alice`, 'complaint-offered');
    const subscribed = await live;
    assert.equal(subscribed.status(), 200, 'the live stream answers');
    assert.ok((await alicePage.locator('#owner').innerText()).includes(alice), 'alice owns it before');
    await alicePage.evaluate(() => { window.__notReloaded = true; });

    // Bob, in a second browser context.
    const bobPage = await newPage(browser);
    await signIn(bobPage, bob, `${scenario}-bob`);
    await visit(bobPage, '/my-work', `${scenario}-bob`, 'my-work');
    await awaitWorkItem(bobPage, id, 'handover');
    const items = await workItems(bobPage, id);
    assert.ok(items.some((item) => item.kind === 'handover'),
      `bob's My work holds the handover: ${JSON.stringify(items)}`);
    await visit(bobPage, `/complaints/${id}`, `${scenario}-bob`, 'complaint');
    await mustRun(bobPage, 'accept-handover');
    await bobPage.locator('#owner').filter({ hasText: bob }).waitFor();
    await snap(bobPage, `${scenario}-bob`, 'complaint-accepted');

    // Alice's page follows without a reload.
    await alicePage.waitForFunction(
      (bob) => document.querySelector('#owner')?.textContent.includes(bob),
      bob,
      { timeout: PATIENCE },
    );
    await alicePage.waitForFunction(
      () => document.querySelector('#timeline li.event[data-event="HandoverAccepted"]') !== null,
      null,
      { timeout: PATIENCE },
    );
    await alicePage.waitForFunction(
      () => (document.querySelector('#live-notice')?.textContent ?? '').trim() !== '',
      null,
      { timeout: PATIENCE },
    );
    assert.equal(await alicePage.locator('#live-notice').getAttribute('role'), 'status');
    assert.equal(await alicePage.evaluate(() => window.__notReloaded), true, 'alice\'s page was not reloaded');
    await snap(alicePage, `${scenario}-alice`, 'complaint-live-update');
    assertNoPageProblems(alicePage);
    assertNoPageProblems(bobPage);
    await alicePage.context().close();
    await bobPage.context().close();
  });
});
