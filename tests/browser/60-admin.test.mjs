// Admin: an admin adds an agent, who then signs in, and disables them, which ends their open
// page and refuses their next sign-in; creates an API token (the secret shown once), which the
// API accepts, revokes it, and the API refuses it at once; adds a webhook (its secret shown
// once); watches projections and publishers follow the ledger live. axe and screenshots on
// every admin page.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  addUser, assertAccessible, assertNoPageProblems, config, fileComplaint, launch, newPage,
  signIn, snap, submitSignIn, uniqueName, visit,
} from './support.mjs';

/** GET /api/complaints with a bearer token; the status. */
async function apiStatus(token) {
  const response = await fetch(`${config.baseUrl}/api/complaints`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
  });
  await response.arrayBuffer();
  return response.status;
}

describe('admin', () => {
  let browser;
  let admin;

  before(async () => {
    admin = addUser('ada', 'admin');
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('adds an agent who then signs in, and disables them', async () => {
    const scenario = 'admin-people';
    const page = await newPage(browser);
    await signIn(page, admin, scenario);
    await visit(page, '/admin', scenario, 'people');
    await assertAccessible(page, 'admin people');

    const name = uniqueName('nina');
    const form = page.locator('form#add-person');
    await form.locator('#person-name').fill(name);
    await form.locator('#person-role').selectOption('agent');
    await form.locator('#person-password').fill(config.password);
    await Promise.all([page.waitForURL(/done=added/), form.locator('button[type="submit"]').click()]);
    assert.equal((await page.locator('h1#person').innerText()).trim(), name);
    await snap(page, scenario, 'person-added');
    await assertAccessible(page, 'admin person');
    const personPage = page.url();

    // The new agent signs in and works.
    const agent = await newPage(browser);
    await signIn(agent, name, scenario);
    await agent.goto('/my-work');
    await agent.locator('#my-work-empty').waitFor();

    // Disabled: the agent's open page leaves for the sign-in form, and signing in is refused.
    await page.goto(personPage);
    await Promise.all([
      page.waitForURL(/done=/),
      page.locator('form#disable-person button[type="submit"]').click(),
    ]);
    await page.locator('#person-state .badge').filter({ hasText: /disabled/i }).waitFor();
    await snap(page, scenario, 'person-disabled');
    await agent.goto('/my-work');
    assert.equal(new URL(agent.url()).pathname, '/sign-in', 'the disabled agent\'s session ended');
    assert.notEqual(await submitSignIn(agent, name, config.password), 303, 'a disabled person cannot sign in');
    await agent.context().close();

    // The list shows them disabled.
    await page.goto('/admin');
    await page.locator(`#people tr[data-person="${name}"]`).filter({ hasText: /disabled/i }).waitFor();
    assertNoPageProblems(page);
    await page.context().close();
  });

  it('creates an API token the API accepts, and revokes it: the API refuses it at once', async () => {
    const scenario = 'admin-tokens';
    const page = await newPage(browser);
    await signIn(page, admin, scenario);
    await visit(page, '/admin/tokens', scenario, 'tokens');
    await assertAccessible(page, 'admin tokens');

    const name = uniqueName('crm-sync');
    const form = page.locator('form#create-token');
    await form.locator('#token-name').fill(name);
    await form.locator('#token-role').selectOption('agent');
    await Promise.all([page.waitForLoadState('load'), form.locator('button[type="submit"]').click()]);
    const secret = (await page.locator('#new-token-secret').innerText()).trim();
    assert.ok(secret.length >= 20, 'the secret is shown');
    await snap(page, scenario, 'token-created');
    await assertAccessible(page, 'admin token created');
    assert.equal(await apiStatus(secret), 200, 'the API accepts the new token');

    // Shown once: the list never shows it again.
    await page.goto('/admin/tokens');
    assert.equal(await page.locator('#new-token-secret').count(), 0);
    assert.ok(!(await page.content()).includes(secret), 'the secret is not on the page any more');
    const row = page.locator(`#tokens tr[data-name="${name}"]`);
    assert.equal(await row.getAttribute('data-state'), 'active');

    await Promise.all([
      page.waitForURL(/done=revoked/),
      row.locator('form.revoke-token button[type="submit"]').click(),
    ]);
    assert.equal(await row.getAttribute('data-state'), 'revoked');
    await snap(page, scenario, 'token-revoked');
    assert.equal(await apiStatus(secret), 401, 'the API refuses the revoked token at once');
    assertNoPageProblems(page);
    await page.context().close();
  });

  it('adds a webhook (the secret shown once) and watches projections follow the ledger live', async () => {
    const scenario = 'admin-webhooks';
    const page = await newPage(browser);
    await signIn(page, admin, scenario);
    await visit(page, '/admin/webhooks', scenario, 'webhooks');
    await assertAccessible(page, 'admin webhooks');

    const form = page.locator('form#add-webhook');
    await form.locator('#webhook-url').fill('https://crm.example.org/obliged-events');
    await form.locator('#webhook-events').fill('PromiseMade PromiseBroken');
    await Promise.all([page.waitForLoadState('load'), form.locator('button[type="submit"]').click()]);
    const secret = (await page.locator('#new-webhook-secret').innerText()).trim();
    assert.ok(secret.length >= 20, 'the webhook secret is shown');
    await snap(page, scenario, 'webhook-added');
    await assertAccessible(page, 'admin webhook added');
    await Promise.all([page.waitForURL(/\/admin\/webhooks\/.+/), page.locator('a#new-webhook').click()]);
    assert.ok(!(await page.content()).includes(secret), 'the secret is shown only once');
    await page.locator('#webhook-position').waitFor();
    await snap(page, scenario, 'webhook');
    await assertAccessible(page, 'admin webhook');

    // Projections: the page follows the ledger without a reload.
    await visit(page, '/admin/projections', scenario, 'projections');
    await assertAccessible(page, 'admin projections');
    const live = page.locator('#consumers-live');
    await page.locator('#consumers tr[data-consumer]').first().waitFor();
    const head = Number(await live.getAttribute('data-head'));
    const other = await newPage(browser);
    await signIn(other, admin);
    await fileComplaint(other, scenario);
    await other.context().close();
    await page.waitForFunction(
      (before) => Number(document.getElementById('consumers-live')?.dataset.head) > before,
      head,
      { timeout: 30_000 },
    );
    await snap(page, scenario, 'projections-moved');
    assertNoPageProblems(page);
    await page.context().close();
  });
});
