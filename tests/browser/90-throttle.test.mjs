// Wrong passwords are throttled: after a handful, even the right password is refused with the
// throttle message and 429. Runs last (files run in name order), in case the server throttles
// by address rather than by name.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  addUser, assertAccessible, config, launch, newPage, snap, submitSignIn,
} from './support.mjs';

/** Wrong attempts tried before the suite gives up waiting for the throttle. */
const MOST_WRONG_ATTEMPTS = 20;

describe('sign-in throttle', () => {
  let browser;
  let agent;

  before(async () => {
    agent = addUser('tom', 'agent');
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('refuses even the right password after repeated wrong ones, with 429', async () => {
    const page = await newPage(browser);
    await page.goto('/sign-in');
    let wrongMessage = null;
    let attempts = 0;
    let status = 0;
    while (attempts < MOST_WRONG_ATTEMPTS) {
      attempts += 1;
      status = await submitSignIn(page, agent, `wrong-${attempts}`);
      if (status === 429) break;
      assert.ok(status >= 400 && status < 500, `wrong password attempt ${attempts} answered ${status}`);
      await page.locator('#sign-in-error').waitFor();
      wrongMessage = (await page.locator('#sign-in-error').innerText()).trim();
      assert.notEqual(wrongMessage, '', 'the wrong password is said');
      if (attempts === 1) await snap(page, 'throttle', 'wrong-password');
    }
    assert.equal(status, 429, `throttled within ${MOST_WRONG_ATTEMPTS} wrong attempts`);
    console.log(`throttled after ${attempts - 1} wrong attempt(s)`);

    const right = await submitSignIn(page, agent, config.password);
    await snap(page, 'throttle', 'throttled');
    assert.equal(right, 429, 'the right password is refused while throttled');
    assert.match(new URL(page.url()).pathname, /^\/sign-in$/);
    const message = (await page.locator('#sign-in-error').innerText()).trim();
    assert.notEqual(message, '', 'the throttle message is shown');
    assert.notEqual(message, wrongMessage, 'the throttle message differs from the wrong-password one');
    assert.equal(await page.locator('#sign-in-error').getAttribute('role'), 'alert');
    await assertAccessible(page, 'sign-in, throttled');
    await page.context().close();
  });
});
