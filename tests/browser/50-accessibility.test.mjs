// axe (wcag2a, wcag2aa) on every page of the console: no serious or critical violation. And the
// complaint page on a phone.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  addUser, assertAccessible, assertNoPageProblems, ensureOwner, fileComplaint, launch,
  localDateTime, mustRun, newPage, runCommand, signIn, snap, visit,
} from './support.mjs';

describe('accessibility', () => {
  let browser;
  let agent;
  let page;
  let id;

  before(async () => {
    agent = addUser('alex', 'agent');
    browser = await launch();
    page = await newPage(browser);
    await signIn(page, agent);
    // A complaint with something owed, so My work and the complaint page are not empty.
    id = await fileComplaint(page, 'a11y');
    await ensureOwner(page, agent);
    await mustRun(page, 'log-contact', {
      direction: 'inbound', channel: 'email', summary: 'Asks for a call', request: true,
    });
    await mustRun(page, 'make-promise', {
      kind: 'callback', description: 'Call back', due_at: localDateTime(new Date(Date.now() + 3 * 3600_000)),
    });
    // CSP breaches are the other files' concern; here each page answers for its own.
    page.problems.length = 0;
  });

  after(async () => {
    await browser?.close();
  });

  it('the sign-in page (signed out, and with an error)', async () => {
    const signedOut = await newPage(browser);
    await visit(signedOut, '/sign-in', 'a11y', 'sign-in');
    await assertAccessible(signedOut, 'sign-in');
    await signedOut.locator('#name').fill(agent);
    await signedOut.locator('#password').fill('not the password');
    await signedOut.locator('#sign-in-submit').click();
    await signedOut.locator('#sign-in-error').waitFor();
    await snap(signedOut, 'a11y', 'sign-in-error');
    assert.equal(await signedOut.locator('#sign-in-error').getAttribute('role'), 'alert');
    await assertAccessible(signedOut, 'sign-in with an error');
    await signedOut.context().close();
  });

  for (const [name, target] of [
    ['my work', '/my-work'],
    ['complaints list', '/complaints'],
    ['new complaint', '/complaints/new'],
    ['settings', '/settings'],
  ]) {
    it(name, async () => {
      const response = await visit(page, target, 'a11y', name);
      assert.equal(response.status(), 200);
      await assertAccessible(page, name);
      assertNoPageProblems(page);
    });
  }

  it('the complaint page, and a refusal on it', async () => {
    await visit(page, `/complaints/${id}`, 'a11y', 'complaint');
    await assertAccessible(page, 'complaint page');
    const { refusal } = await runCommand(page, 'close');
    assert.ok(refusal, 'closing with a promise open is refused');
    await snap(page, 'a11y', 'complaint-refusal');
    await assertAccessible(page, 'complaint page with a refusal');
    assertNoPageProblems(page);
  });

  it('the 403 page', async () => {
    const response = await visit(page, '/admin', 'a11y', 'forbidden');
    assert.equal(response.status(), 403);
    await page.locator('h1#forbidden').waitFor();
    await assertAccessible(page, '403 page');
  });

  it('the Dutch sign-in and My work', async () => {
    const dutch = await newPage(browser, { locale: 'nl-NL' });
    await visit(dutch, '/sign-in', 'a11y-nl', 'sign-in');
    await assertAccessible(dutch, 'Dutch sign-in');
    await signIn(dutch, agent, 'a11y-nl');
    await assertAccessible(dutch, 'Dutch my work');
    await dutch.context().close();
  });

  it('the complaint page on a phone (390x844)', async () => {
    const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signIn(phone, agent, 'phone');
    await visit(phone, `/complaints/${id}`, 'phone', 'complaint');
    await phone.locator('#complaint-header').waitFor();
    await assertAccessible(phone, 'complaint page on a phone');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) {
      console.log(`note: the complaint page is ${overflow}px wider than a 390px phone`);
    }
    assertNoPageProblems(phone);
    await phone.context().close();
  });
});
