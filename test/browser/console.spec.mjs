// Drives Parley's web console in Debian's Chromium with playwright-core, as
// a person would: log in, add a user (a weak password first), watch a real
// phone register, watch a call live and end it, find it in the history and
// read its SIP ladder. Run by browser_test.go, which starts Parley and the
// baresip phones: a line "@@ REQUEST" on stdout asks it for something, and
// the answer ("ok" or "error ...") comes back on stdin.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const BASE = process.env.PARLEY_URL;
const ADMIN = process.env.PARLEY_ADMIN;
const ADMIN_PW = process.env.PARLEY_PASSWORD;
const SHOTS = process.env.SCREENSHOT_DIR || 'screenshots';
const T = 15000; // longest wait for anything on a page

const answers = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(request) {
  process.stdout.write(`@@ ${request}\n`);
  const { value, done } = await answers.next();
  if (done || value !== 'ok') throw new Error(`${request}: ${done ? 'no answer' : value}`);
}

const began = Date.now();
async function step(name, fn) {
  const t = Date.now();
  await fn();
  console.log(`✓ ${name} (${Date.now() - t} ms)`);
}

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}

mkdirSync(SHOTS, { recursive: true });
const browser = await chromium.launchPersistentContext(process.env.USER_DATA_DIR || '', {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  acceptDownloads: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = browser.pages()[0] ?? await browser.newPage();
page.setDefaultTimeout(T);
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => {
  // The API's refusals (401, 400, 409) are shown on the page; Chromium also logs them as failed loads.
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push('console: ' + m.text());
});
page.on('response', (r) => {
  if (r.status() >= 400 && new URL(r.url()).pathname.startsWith('/console/')) problems.push(`${r.status()} for ${r.url()}`);
});
const shot = async (name) => {
  await accessible(name);
  await page.screenshot({ path: join(SHOTS, name + '.png') });
};

// accessible checks what a screen reader needs on the page shown: one h1, a
// label for every field, a name for every button and link, no duplicate id.
async function accessible(name) {
  const bad = await page.evaluate(() => {
    const out = [];
    const shown = (el) => el.getClientRects().length > 0;
    const h1 = [...document.querySelectorAll('h1')].filter(shown);
    if (h1.length !== 1) out.push(`${h1.length} visible h1`);
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (shown(el) && !el.labels?.length && !el.getAttribute('aria-label')) out.push('field without a label: ' + el.outerHTML);
    }
    for (const el of document.querySelectorAll('button, a[href], [role=button]')) {
      if (shown(el) && !(el.getAttribute('aria-label') || el.textContent.trim())) out.push('control without a name: ' + el.outerHTML);
    }
    const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
    for (const id of new Set(ids)) if (ids.indexOf(id) !== ids.lastIndexOf(id)) out.push('duplicate id ' + id);
    return out;
  });
  check(bad.length === 0, `accessibility of ${name}:\n` + bad.join('\n'));
}
const nav = (name) => page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
const alert = () => page.getByRole('alert').filter({ hasText: /\S/ });

try {
  await step('the login page: a wrong password is refused, the right one logs in', async () => {
    await page.goto(BASE + '/');
    check(new URL(page.url()).pathname === '/console/', '/ redirects to /console/');
    await page.getByLabel('Administrator').fill(ADMIN);
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await alert().filter({ hasText: 'wrong name or password' }).waitFor();
    await shot('login');
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PW);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await page.getByRole('region', { name: 'Registered devices' }).getByText('0', { exact: true }).waitFor();
  });

  await step('users: a weak password and a duplicate are refused with the reason, then alice is added', async () => {
    await nav('Users');
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.getByRole('row', { name: /bob@example\.test/ }).waitFor();
    await page.getByLabel('User name', { exact: true }).fill('alice');
    await page.getByLabel('Password', { exact: true }).fill('123');
    await page.getByRole('button', { name: 'Add user' }).click();
    await alert().filter({ hasText: /Could not add alice@example\.test: weak password/ }).waitFor();
    await shot('users-weak-password');
    await page.getByLabel('User name', { exact: true }).fill('bob');
    await page.getByLabel('Password', { exact: true }).fill('another-good-one');
    await page.getByRole('button', { name: 'Add user' }).click();
    await alert().filter({ hasText: /already exists/ }).waitFor();
    await page.getByLabel('User name', { exact: true }).fill('alice');
    await page.getByLabel('Password', { exact: true }).fill('alice-secret-42');
    await page.getByRole('button', { name: 'Add user' }).click();
    await alert().filter({ hasText: 'Added alice@example.test' }).waitFor();
    await page.getByRole('row', { name: /alice@example\.test/ }).waitFor();
    await page.getByLabel('User name', { exact: true }).fill('carol@example.test');
    await page.getByLabel('Password', { exact: true }).fill('carol-secret-9');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('row', { name: /carol@example\.test/ }).waitFor();
    await page.getByRole('button', { name: 'Delete carol@example.test' }).click();
    await page.getByRole('dialog', { name: 'Delete carol@example.test?' }).getByRole('button', { name: 'Delete' }).click();
    await alert().filter({ hasText: 'Deleted carol@example.test' }).waitFor();
    await page.getByRole('row', { name: /carol@example\.test/ }).waitFor({ state: 'detached' });
  });

  await step('users: change a password in its dialog (a weak one is refused there too)', async () => {
    await page.getByRole('button', { name: 'Change password of bob@example.test' }).click();
    const dlg = page.getByRole('dialog', { name: /Change the password of bob@example\.test/ });
    await dlg.getByLabel('New password').fill('x');
    await dlg.getByRole('button', { name: 'Change password' }).click();
    await dlg.getByRole('alert').filter({ hasText: 'weak password' }).waitFor();
    await dlg.getByLabel('New password').fill(process.env.BOB_PASSWORD || 'bob-secret-77');
    await dlg.getByRole('button', { name: 'Change password' }).click();
    await dlg.waitFor({ state: 'detached' });
    await alert().filter({ hasText: 'Changed the password of bob@example.test' }).waitFor();
  });

  await step('a real phone (baresip) registers as alice and shows up', async () => {
    await ask('register alice alice-secret-42');
    await nav('Registrations');
    const row = page.getByRole('row', { name: /alice@example\.test/ });
    await row.waitFor();
    check(/baresip/i.test(await row.innerText()), 'the registration names its device (baresip)');
    await page.getByText('1 registered device of 1 user').waitFor();
    await nav('Users');
    await page.getByRole('row', { name: /alice@example\.test/ }).getByText(/baresip/i).waitFor();
    await shot('users');
  });

  let callID = '';
  await step('a call from alice to bob is live; the operator ends it', async () => {
    await ask('call');
    await nav('Live calls');
    const row = page.getByRole('row', { name: /alice@example\.test.*bob@example\.test/ });
    await row.getByText('answered').waitFor();
    await page.getByText('1 call in progress').waitFor();
    callID = decodeURIComponent(new URL(await row.getByRole('link', { name: /SIP ladder/ }).getAttribute('href'), BASE).searchParams.get('call_id'));
    check(callID.length > 0, 'the live call links its ladder');
    await page.waitForTimeout(2100); // one more poll: the duration ticks
    await shot('calls');
    await nav('Dashboard');
    await page.getByRole('region', { name: 'Active calls' }).getByText('1', { exact: true }).waitFor();
    await page.getByRole('region', { name: 'Registered devices' }).getByText('2', { exact: true }).waitFor();
    await shot('dashboard');
    await nav('Live calls');
    await page.getByRole('button', { name: 'End call from alice@example.test to bob@example.test' }).click();
    const dlg = page.getByRole('dialog', { name: 'End this call?' });
    await dlg.getByRole('button', { name: 'End call' }).click();
    await page.getByText('No call in progress.').waitFor();
    await ask('hungup');
  });

  await step('the call is in the history, answered and ended by the operator; CSV export works', async () => {
    await nav('Call history');
    await page.getByLabel('User', { exact: true }).fill('alice@example.test');
    const row = page.getByRole('row', { name: /alice@example\.test.*bob@example\.test/ });
    for (let i = 0; i < 20; i++) { // the record is written a moment after the call
      await page.getByRole('button', { name: 'Show calls' }).click();
      await page.waitForTimeout(250);
      if (await row.count()) break;
    }
    await row.getByText('answered').waitFor();
    check(/system/.test(await row.innerText()), 'hung up by: system');
    check(new URL(page.url()).searchParams.get('user') === 'alice@example.test', 'the filter is in the address');
    const csv = page.getByRole('link', { name: 'Export CSV' });
    const href = await csv.getAttribute('href');
    check(/format=csv/.test(href) && /user=alice%40example\.test/.test(href), 'the CSV link carries the filters: ' + href);
    const res = await page.request.get(new URL(href, BASE).href);
    const text = await res.text();
    check(res.ok() && text.startsWith('id,call_id,caller,callee') && text.includes(callID), 'the CSV export has the call');
    await shot('history');
  });

  await step('the SIP ladder of the call: parties as columns, arrows, a click shows the message', async () => {
    await page.getByRole('row', { name: /alice@example\.test.*bob@example\.test/ }).getByRole('link', { name: /SIP ladder/ }).click();
    await page.getByRole('heading', { name: 'SIP ladder', level: 1 }).waitFor();
    const invite = page.getByRole('button', { name: /^INVITE sip:bob@example\.test[;>\s].*SIP\/2\.0, alice \(/ });
    await invite.first().waitFor();
    for (const first of [/^SIP\/2\.0 407 /, /^SIP\/2\.0 180 /, /^SIP\/2\.0 200 /, /^ACK /, /^BYE /]) {
      check(await page.getByRole('button', { name: first }).count() > 0, 'the ladder has ' + first);
    }
    const svg = page.locator('svg.ladder');
    for (const party of ['alice', 'Parley', 'bob']) {
      check(await svg.locator('text.party', { hasText: party }).count() === 1, 'a column for ' + party);
    }
    await invite.first().click();
    const pre = page.getByRole('region', { name: /INVITE sip:bob@example\.test/ }).locator('pre');
    await pre.waitFor();
    const whole = await pre.innerText();
    check(whole.includes('Call-ID: ' + callID) || whole.toLowerCase().includes(callID.toLowerCase()), 'the message shown is the whole INVITE');
    check(/^v=0/m.test(whole), 'with its SDP body');
    await page.keyboard.press('ArrowDown'); // the keyboard walks the ladder
    await page.getByRole('region', { name: /^SIP\/2\.0 100 Trying/ }).waitFor();
    await page.keyboard.press('ArrowUp');
    await page.getByRole('region', { name: /^INVITE sip:bob@example\.test/ }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'SIP ladder' }).waitFor();
    await page.getByRole('link', { name: new RegExp(callID.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }).first().waitFor();
    await shot('ladder');
  });

  await step('configuration in effect; force-unregister; log out', async () => {
    await nav('Configuration');
    await page.getByRole('region', { name: 'Registrar' }).waitFor();
    await page.getByRole('row', { name: /domain.*example\.test/i }).first().waitFor();
    await shot('config');
    await nav('Registrations');
    await page.getByRole('button', { name: 'Unregister bob@example.test' }).click();
    await page.getByRole('dialog', { name: 'Unregister bob@example.test?' }).getByRole('button', { name: 'Unregister' }).click();
    await alert().filter({ hasText: 'Unregistered bob@example.test' }).waitFor();
    await page.getByText('1 registered device of 1 user').waitFor();
    await shot('registrations');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.goto(BASE + '/console/users');
    await page.getByRole('button', { name: 'Log in' }).waitFor(); // the session is gone
  });

  check(problems.length === 0, 'no script errors in the page:\n' + problems.join('\n'));
  console.log(`all console checks passed in ${((Date.now() - began) / 1000).toFixed(1)} s`);
} catch (e) {
  await shot('failure').catch(() => {});
  console.error(e.stack || String(e));
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
  process.stdin.destroy();
}
