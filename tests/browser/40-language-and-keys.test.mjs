// The Dutch interface (from Accept-Language, and chosen in /settings) and the keyboard
// shortcuts.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  addUser, assertNoPageProblems, launch, newPage, signIn, snap, visit,
} from './support.mjs';

async function lang(page) {
  return page.locator('html').getAttribute('lang');
}

async function navText(page, href) {
  return (await page.locator(`nav#nav a[href="${href}"]`).innerText()).trim();
}

/** Chooses a language in /settings and submits the form. */
async function chooseLanguage(page, scenario, language) {
  await visit(page, '/settings', scenario, `settings-before-${language}`);
  const form = page.locator('form#settings');
  await form.locator('select[name="language"]').selectOption(language);
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    form.locator('button[type=submit], input[type=submit], button:not([type])').first().click(),
  ]);
  await page.waitForLoadState('load');
  await snap(page, scenario, `settings-after-${language}`);
}

describe('language', () => {
  let browser;
  let agent;

  before(async () => {
    agent = addUser('anna', 'agent');
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  it('follows Accept-Language: a Dutch browser gets the Dutch interface', async () => {
    const scenario = 'dutch-browser';
    const page = await newPage(browser, { locale: 'nl-NL' });
    await visit(page, '/sign-in', scenario, 'sign-in');
    assert.equal(await lang(page), 'nl', 'the sign-in page is Dutch');
    await signIn(page, agent, scenario);
    assert.equal(await lang(page), 'nl');
    const myWork = await navText(page, '/my-work');
    const complaints = await navText(page, '/complaints');
    assert.notEqual(myWork, 'My work', 'My work is translated');
    assert.match(complaints, /klacht/i, `the Complaints link reads Dutch: ${complaints}`);
    assert.match(await navText(page, '/complaints/new'), /klacht/i);
    await visit(page, '/complaints', scenario, 'complaints');
    assert.equal(await lang(page), 'nl');
    assertNoPageProblems(page);
    await page.context().close();
  });

  it('is chosen in /settings, over Accept-Language, and back to automatic', async () => {
    const scenario = 'settings-language';
    const page = await newPage(browser, { locale: 'en-GB' });
    await signIn(page, agent, scenario);
    assert.equal(await lang(page), 'en');
    const english = await navText(page, '/complaints');

    await chooseLanguage(page, scenario, 'nl');
    await visit(page, '/my-work', scenario, 'my-work-nl');
    assert.equal(await lang(page), 'nl', 'the chosen language holds on the next page');
    assert.notEqual(await navText(page, '/complaints'), english);
    assert.match(await navText(page, '/complaints'), /klacht/i);
    await visit(page, '/settings', scenario, 'settings-nl');
    assert.equal(await page.locator('form#settings select[name="language"]').inputValue(), 'nl');

    await chooseLanguage(page, scenario, 'auto');
    await visit(page, '/my-work', scenario, 'my-work-auto');
    assert.equal(await lang(page), 'en', 'automatic follows Accept-Language again');
    assert.equal(await navText(page, '/complaints'), english);
    assertNoPageProblems(page);
    await page.context().close();
  });
});

describe('keyboard shortcuts', () => {
  let browser;
  let agent;
  let page;

  before(async () => {
    agent = addUser('kees', 'agent');
    browser = await launch();
    page = await newPage(browser);
    await signIn(page, agent);
  });

  after(async () => {
    await browser?.close();
  });

  it('? opens the shortcut help, Escape closes it', async () => {
    await visit(page, '/my-work', 'shortcuts', 'my-work');
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('?');
    const dialog = page.locator('dialog#shortcuts');
    await dialog.waitFor({ state: 'visible' });
    assert.equal(await dialog.evaluate((d) => d.open), true, 'the dialog is open');
    await snap(page, 'shortcuts', 'help-open');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assertNoPageProblems(page);
  });

  it('n goes to a new complaint, g w back to My work', async () => {
    await visit(page, '/my-work', 'shortcuts', 'my-work-keys');
    await page.evaluate(() => document.activeElement?.blur());
    await Promise.all([page.waitForURL(/\/complaints\/new$/), page.keyboard.press('n')]);
    await page.evaluate(() => document.activeElement?.blur());
    await Promise.all([
      page.waitForURL(/\/my-work$/),
      (async () => {
        await page.keyboard.press('g');
        await page.keyboard.press('w');
      })(),
    ]);
    assertNoPageProblems(page);
  });
});
