// Debian's chromium driven by puppeteer-core (never a downloaded browser) against the lab's LuCI:
// launch, log in as a user does, and collect every console error or warning, page error, failed
// request and HTTP error status, so a test can assert there were none.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

// puppeteer-core lives in the build tree (npm ci of tests/openwrt/luci/package-lock.json).
const require = createRequire(path.join(process.env.NPM_DIR || '.', 'node_modules', '.package'));
const puppeteer = require('puppeteer-core');

export const PASSWORD = process.env.LAB_PASSWORD;
export const URL = process.env.LAB_URL || 'http://127.0.0.1';

export async function launch() {
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ctnft-chromium-'));
	const browser = await puppeteer.launch({
		executablePath: '/usr/bin/chromium',
		userDataDir: profile,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
		defaultViewport: { width: 1280, height: 900 },
	});
	const close = async () => {
		await browser.close();
		fs.rmSync(profile, { recursive: true, force: true });
	};
	return { browser, close };
}

// Everything that went wrong in the page. Two answers are expected, each logged by the browser
// as a console error too, and counted apart: LuCI answers the login page with HTTP 403 by
// design, once, before logging in; and after Save & Apply LuCI asks cgi-exec for
// /usr/libexec/luci-peeraddr (is the browser's own interface affected?), which belongs to
// luci-mod-network, not in the LuCI subset of ../shared (LuCI ignores the 404 and goes on).
export function watch(page) {
	const problems = [];
	const state = { loggedIn: false, loginPage403: 0, peeraddr404: 0 };
	const isLogin403 = (url) => !state.loggedIn && url.startsWith(`${URL}/cgi-bin/luci/`);
	const execUrls = new Set();
	page.on('console', (m) => {
		if (m.type() !== 'error' && m.type() !== 'warn' && m.type() !== 'warning')
			return;
		const where = m.location()?.url || '';
		if (/status of 403/.test(m.text()) && isLogin403(where))
			return;
		if (/status of 404/.test(m.text()) && execUrls.has(where))
			return;
		problems.push(`console ${m.type()}: ${m.text()} (${where})`);
	});
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('requestfailed', (r) => {
		// Leaving a page aborts its open requests (LuCI's poll); not a failure of the page.
		if (r.failure()?.errorText === 'net::ERR_ABORTED' && state.navigating)
			return;
		problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
	});
	page.on('response', (r) => {
		if (r.status() < 400)
			return;
		if (r.status() === 403 && r.request().isNavigationRequest() && isLogin403(r.url())) {
			state.loginPage403++;
			return;
		}
		if (r.status() === 404 && r.url().startsWith(`${URL}/cgi-bin/cgi-exec?`) &&
		    /(^|&)command=%2Fusr%2Flibexec%2Fluci-peeraddr(&|$)/.test(r.request().postData() || '')) {
			state.peeraddr404++;
			execUrls.add(r.url());
			return;
		}
		problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
	});
	return { problems, state };
}

// Opens PAGE_PATH (e.g. /admin/statistics/collectd): LuCI answers with its login form; the
// form is filled and posted as a user does, and LuCI sends the page asked for.
export async function login(page, watcher, pagePath) {
	await page.goto(`${URL}/cgi-bin/luci${pagePath}`);
	await page.waitForSelector('#luci_password');
	// The theme moves the form into a dialog; fill and post the form itself.
	await Promise.all([
		page.waitForNavigation(),
		page.evaluate((pw) => {
			document.querySelector('#luci_username').value = 'root';
			document.querySelector('#luci_password').value = pw;
			document.querySelector('form').submit();
		}, PASSWORD),
	]);
	watcher.state.loggedIn = true;
	if (await page.$('#luci_password'))
		throw new Error('login failed: LuCI shows its login form again');
}

export async function go(page, watcher, pagePath) {
	watcher.state.navigating = true;
	await page.goto(`${URL}/cgi-bin/luci${pagePath}`);
	watcher.state.navigating = false;
}

let failures = 0;
export function check(cond, what, why) {
	if (cond) {
		console.log(`ok: ${what}`);
	} else {
		console.log(`FAIL: ${what}${why ? `: ${why}` : ''}`);
		failures++;
	}
	return cond;
}
export const failed = () => failures;
export const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// The UCI file's sections: { name: { '.type', option: value or [values] } }.
export function parseUci(text) {
	const sections = {};
	let cur = null;
	const unq = (v) => v.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
	for (const line of text.split('\n')) {
		const m = /^\s*(config|option|list)\s+(\S+)(?:\s+(.*\S))?\s*$/.exec(line);
		if (!m)
			continue;
		if (m[1] === 'config') {
			const name = m[3] ? unq(m[3]) : `@${m[2]}[${Object.keys(sections).length}]`;
			cur = sections[name] = { '.type': m[2] };
		} else if (cur && m[1] === 'option') {
			cur[m[2]] = unq(m[3] ?? '');
		} else if (cur) {
			(cur[m[2]] = cur[m[2]] || []).push(unq(m[3] ?? ''));
		}
	}
	return sections;
}

export async function until(what, fn, ms = 20000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}
