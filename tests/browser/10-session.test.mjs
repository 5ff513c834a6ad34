// Signing in and out, pages behind the sign-in, and the admin area kept from agents.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  addUser, assertNoPageProblems, launch, newPage, signIn, snap, visit,
} from './support.mjs';

describe('session', () => {
  let browser;
  let agent;
  let admin;

  before(async () => {
    agent = addUser('alice', 'agent');
    admin = addUser('ada', 'admin');
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('signed out, every page leads to the sign-in form', async () => {
    const page = await newPage(browser);
    for (const target of ['/', '/my-work', '/complaints', '/complaints/new', '/settings']) {
      await page.goto(target);
      assert.equal(new URL(page.url()).pathname, '/sign-in', `${target} signed out`);
    }
    await page.locator('#sign-in-form').waitFor();
    await snap(page, 'signed-out', 'sign-in');
    assertNoPageProblems(page);
    await page.context().close();
  });

  it('signs in, shows who is signed in, and signs out', async () => {
    const scenario = 'sign-in-and-out';
    const page = await newPage(browser);
    await signIn(page, agent, scenario);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    const nav = page.locator('nav#nav');
    for (const href of ['/my-work', '/complaints', '/complaints/new']) {
      assert.equal(await nav.locator(`a[href="${href}"]`).count(), 1, `nav link to ${href}`);
    }
    assert.equal(await nav.locator('a[href="/admin"]').count(), 0, 'an agent sees no Admin link');
    await page.locator('main#main').waitFor();

    // `/` leads to My work once signed in.
    await page.goto('/');
    assert.equal(new URL(page.url()).pathname, '/my-work');

    await Promise.all([
      page.waitForURL(/\/sign-in$/),
      page.locator('form#sign-out').locator('button, input[type=submit]').first().click(),
    ]);
    await snap(page, scenario, 'signed-out');
    await page.goto('/my-work');
    assert.equal(new URL(page.url()).pathname, '/sign-in', 'the session ended with the sign-out');
    assertNoPageProblems(page);
    await page.context().close();
  });

  it('an agent cannot reach /admin; an admin can', async () => {
    const scenario = 'admin-forbidden';
    const page = await newPage(browser);
    await signIn(page, agent, scenario);
    const response = await visit(page, '/admin', scenario, 'admin-as-agent');
    assert.equal(response.status(), 403);
    await page.locator('h1#forbidden').waitFor();
    assertNoPageProblems(page);
    await page.context().close();

    const adminPage = await newPage(browser);
    await signIn(adminPage, admin, 'admin-allowed');
    assert.equal(await adminPage.locator('nav#nav a[href="/admin"]').count(), 1, 'an admin sees the Admin link');
    const allowed = await visit(adminPage, '/admin', 'admin-allowed', 'admin');
    assert.equal(allowed.status(), 200);
    assert.equal(await adminPage.locator('#forbidden').count(), 0);
    assertNoPageProblems(adminPage);
    await adminPage.context().close();
  });
});
