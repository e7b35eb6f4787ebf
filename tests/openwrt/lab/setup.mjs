// Statistics > Setup in the real LuCI of the lab, as a user goes through it: the page renders
// with our plugin listed among the network plugins (and every other installed plugin still
// there); enabling it opens our dialog with every option the plugin accepts, each showing the
// plugin's own default (docs/configuration.md); bad input is rejected as the plugin rejects it
// (table name with every nft keyword, priority, sample interval: tests/openwrt/luci/dialog_cases.txt);
// changed options are saved and applied, and the lab's /etc/config/luci_statistics holds them.
// No console error, page error or failed request anywhere.
//   node setup.mjs REPOSITORY_ROOT UCI_FILE [SCREENSHOT.png]
import fs from 'node:fs';
import path from 'node:path';
import { launch, watch, login, check, failed, same, parseUci, until } from './browser.mjs';

const [root, uciFile, shot] = process.argv.slice(2);
const SID = 'collectd_conntrack_nft';
const cbid = (o) => `cbid.luci_statistics.${SID}.${o}`;
const files = path.join(root, 'openwrt-feed/luci-app-statistics-conntrack-nft/files');

// ---- what the plugin accepts and documents ---------------------------------------------------
const configCpp = fs.readFileSync(path.join(root, 'plugin/plugin_config.cpp'), 'utf8');
const kKeys = /kKeys\s*=\s*((?:\s*"[^"]*")+)\s*;/.exec(configCpp);
const accepted = [...kKeys[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('').split(',').map((k) => k.trim()).filter(Boolean);
// docs/configuration.md's option table: | `Key` | default | accepted values | meaning |
const docs = {}, acceptedValues = {};
const ticks = (cell) => [...cell.matchAll(/`([^`]*)`/g)].map((t) => t[1].replace(/^"(.*)"$/, '$1'));
for (const line of fs.readFileSync(path.join(root, 'docs/configuration.md'), 'utf8').split('\n')) {
	const m = /^\| `(\w+)` \| ([^|]*) \| ([^|]*) \|/.exec(line);
	if (m) {
		docs[m[1]] = ticks(m[2]);
		acceptedValues[m[1]] = ticks(m[3]);
	}
}
// The plugin's rules the dialog must apply too: the cases both run (tests/openwrt/luci/dialog_cases.txt,
// which the harness tests run through the plugin's parser) and every nft keyword of nft/model.cpp.
const cases = fs.readFileSync(path.join(root, 'tests/openwrt/luci/dialog_cases.txt'), 'utf8').split('\n')
	.filter((l) => l && !l.startsWith('#')).map((l) => {
		const [o, verdict, value, ...part] = l.split(' ');
		return { o, accept: verdict === 'accept', value, part: part.join(' ') };
	});
const keywordList = /kReservedWords\{([^}]*)\}/.exec(fs.readFileSync(path.join(root, 'nft/model.cpp'), 'utf8'));
const keywords = keywordList ? [...keywordList[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]) : [];
check(cases.length > 20 && keywords.length > 100, `${cases.length} dialog cases, ${keywords.length} nft keywords read`);
for (const w of keywords)
	cases.push({ o: 'Table', accept: false, value: w, part: 'is an nft keyword' });
// stat-genconfig writes a list option's values under the singular key (Protocols -> Protocol).
const pluginJson = JSON.parse(fs.readFileSync(path.join(files, 'usr/share/luci/statistics/plugins/conntrack_nft.json'), 'utf8'));
const legend = pluginJson.legend;
const [singles, bools, lists] = legend;
// Lists are sets to the plugin: compare them in any order.
const norm = (o, v) => (lists.includes(o) && Array.isArray(v) ? [...v].sort() : v);
const keyOf = (o) => (lists.includes(o) ? o.replace(/s$/, '') : o);
const options = [...singles, ...bools, ...lists];
check(same(options.map(keyOf).sort(), [...accepted].sort()), 'the legend names every key the plugin accepts, and no other',
	`legend ${options.map(keyOf).sort().join(',')}; plugin ${[...accepted].sort().join(',')}`);

// What the dialog shows for an option the user has not touched: the plugin's default.
function expectedDefault(o) {
	const d = docs[keyOf(o)];
	if (bools.includes(o))
		return { true: '1', false: '0' }[d[0]];
	if (lists.includes(o))
		return d;          // empty for SampleCounters: "every counter"
	return d[0] ?? '';     // SampleInterval: off
}

// ---- the browser -----------------------------------------------------------------------------
const { browser, close } = await launch();
const page = await browser.newPage();
const watcher = watch(page);
const t0 = Date.now();

// The value each widget holds, through LuCI's own widget instances.
const values = () => page.evaluate((ids) => Object.fromEntries(ids.map(([o, id]) => {
	const el = document.querySelector(`.modal [id="${id}"]`);
	if (!el || !el.offsetParent)
		return [o, null];
	const w = L.dom.findClassInstance(el);
	return [o, w ? w.getValue() : undefined];
})), ['enable', ...options].map((o) => [o, cbid(o)]));

const field = (o) => `.modal [id="${cbid(o)}"]`;
async function typeInto(o, text) {
	const sel = `${field(o)} input`;
	await page.$eval(sel, (el) => { el.value = ''; });
	await page.type(sel, text);
	await page.$eval(sel, (el) => el.blur());
}
const validity = (o) => page.$eval(field(o), (el) => {
	const w = L.dom.findClassInstance(el);
	const input = el.querySelector('input');
	return { valid: w.isValid(), error: input.getAttribute('data-tooltip') || '' };
});
async function toggleFlag(o) {
	await page.$eval(`${field(o)} input[type="checkbox"]`, (el) => el.click());
}
async function pickInDropdown(o, value) {
	// Clicks on the elements themselves (not at screen coordinates, which move while the list
	// opens): the dropdown opens on a click, an item in the open list toggles on one.
	const dd = field(o), item = `${dd} ul.dropdown li[data-value="${value}"]`;
	await page.$eval(dd, (el) => el.click());
	await page.waitForSelector(`${dd}[open] ul.dropdown li[data-value="${value}"]`);
	await page.$eval(item, (el) => el.click());
	await page.waitForSelector(`${item}[selected]`, { timeout: 5000 });
	await page.$eval(`${dd} > span.open`, (el) => el.click());
	await page.waitForSelector(`${dd}[open]`, { hidden: true, timeout: 5000 });
}

try {
	await login(page, watcher, '/admin/statistics/collectd');
	await page.waitForSelector(`tr[data-sid="${SID}"]`, { timeout: 30000 });
	check(true, 'Statistics > Setup renders with conntrack_nft listed');
	const network = await page.$$eval('[data-tab="statistics_network"] tr[data-sid]', (rows) => rows.map((r) => r.getAttribute('data-sid')));
	check(network.includes(SID), `conntrack_nft is a network plugin (network plugins: ${network.length})`);
	const all = await page.$$eval('tr[data-sid^="collectd_"]', (rows) => rows.length);
	check(all > 10, `the other installed plugins are listed too (${all} plugin rows)`);
	const title = await page.$eval(`tr[data-sid="${SID}"]`, (r) => r.getAttribute('data-title'));
	// The same title as the packages' (tests/openwrt/package_makefile.sh checks the Makefile's).
	check(title === pluginJson.title && title === 'Conntrack (nftables)', `row title "${title}"`);

	await page.click('.cbi-tabmenu [data-tab="statistics_network"] a');
	await page.waitForSelector(`tr[data-sid="${SID}"]`, { visible: true });
	// Enabling the plugin in its row opens its dialog (collectd.js).
	await page.$eval(`tr[data-sid="${SID}"] input[type="checkbox"]`, (el) => el.click());
	await page.waitForSelector(`.modal ${'[id="' + cbid('Table') + '"]'}`, { visible: true });
	const heading = await page.$eval('.modal h4', (h) => h.textContent);
	check(/Conntrack \(nftables\)/.test(heading), `dialog "${heading}"`);

	const shown = await values();
	check(shown.enable === '1', 'dialog: the plugin is enabled', `enable = ${shown.enable}`);
	for (const o of options) {
		if (!check(shown[o] !== null && shown[o] !== undefined, `dialog shows ${o}`))
			continue;
		const want = expectedDefault(o);
		const have = Array.isArray(want) ? [].concat(shown[o] ?? []) : shown[o];
		check(same(norm(o, have), norm(o, want)), `${o} shows the plugin's default ${JSON.stringify(want)}`, `shows ${JSON.stringify(have)}`);
	}
	// The choices offered are the values the plugin accepts.
	for (const o of ['Family', 'RuleShape', 'Protocols', 'Hooks', 'States']) {
		const offered = await page.$$eval(`${field(o)} select option, ${field(o)} li[data-value]`,
			(els) => els.map((e) => (e.tagName == 'OPTION' ? e.value : e.getAttribute('data-value'))).filter((v) => v !== ''));
		check(same([...offered].sort(), [...acceptedValues[keyOf(o)]].sort()), `${o} offers ${offered.join(', ')}`,
			`the plugin accepts ${acceptedValues[keyOf(o)].join(', ')}`);
	}
	if (shot) {
		// After the dialog's fade-in.
		await until('the dialog to be drawn', () => page.evaluate(() =>
			getComputedStyle(document.querySelector('#modal_overlay')).opacity === '1' &&
			getComputedStyle(document.querySelector('.modal')).opacity === '1'));
		// Tall enough for the whole dialog (it scrolls inside a window-high overlay), then back.
		await page.setViewport({ width: 1100, height: 2000 });
		await until('the dialog to be laid out again', () => page.evaluate(() =>
			new Promise((r) => requestAnimationFrame(() => r(true)))));
		await (await page.$('.modal')).screenshot({ path: shot });
		await page.setViewport({ width: 1280, height: 900 });
		await until('the dialog to be laid out again', () => page.evaluate(() =>
			new Promise((r) => requestAnimationFrame(() => r(true)))));
	}

	// The plugin's rules, case by case, through LuCI's own validation of each widget: the value
	// in the field, the widget's validation run, its verdict and the message it shows.
	const verdicts = await page.evaluate((list, ids) => list.map((c) => {
		const el = document.querySelector(`.modal [id="${ids[c.o]}"]`);
		const w = L.dom.findClassInstance(el), input = el.querySelector('input');
		input.value = c.value;
		w.triggerValidation();
		const v = { valid: w.isValid(), error: input.getAttribute('data-tooltip') || '' };
		input.value = '';
		w.triggerValidation();
		return v;
	}), cases, { Table: cbid('Table'), SampleInterval: cbid('SampleInterval') });
	const wrong = cases.map((c, i) => ({ ...c, ...verdicts[i] }))
		.filter((c) => c.valid !== c.accept || (!c.accept && !c.error.includes(c.part)));
	check(wrong.length === 0, `the dialog accepts and refuses as the plugin: ${cases.length} cases (${keywords.length} nft keywords), with the plugin's reason`,
		wrong.map((c) => `${c.o} "${c.value}": valid=${c.valid}, message "${c.error}"`).join('; '));

	// Bad input is rejected, with the reason shown, as the user types it.
	for (const [o, bad, why] of [['Table', '9bad', /letter/], ['Table', 'a'.repeat(64), /63/], ['Table', 'counter', /nft keyword/],
		['Priority', '-200', /-199/], ['Priority', 'x1', /integer/], ['SampleInterval', '0.01', /0\.05 to 3600/],
		['SampleInterval', '1s', /0\.05 to 3600/]]) {
		await typeInto(o, bad);
		const v = await validity(o);
		check(!v.valid && why.test(v.error), `${o} "${bad.length > 12 ? bad.slice(0, 12) + '…' : bad}" rejected: ${v.error}`,
			`valid=${v.valid}, message "${v.error}"`);
	}
	// Save refuses while a field is invalid: the dialog stays open.
	await page.$eval('.modal .cbi-button-positive', (b) => b.click());
	await until('LuCI\'s refusal', () => page.evaluate(() =>
		!!document.querySelector('.modal') && document.body.classList.contains('modal-overlay-active')), 3000);
	check(!!(await page.$(field('Table'))), 'Save with invalid fields keeps the dialog open');

	// The user's choices: one of each kind of widget.
	const chosen = { enable: '1', Table: 'lab_stats', Family: 'inet', Priority: '-150', RuleShape: 'classic',
		SampleInterval: '0.25', Protocols: ['tcp', 'udp', 'icmp'], Hooks: ['input', 'output', 'forward', 'prerouting'],
		ReportBytes: '1', OwnerFlag: '0', SampleCounters: ['*_fwd_*'] };
	await typeInto('Table', chosen.Table);
	await typeInto('Priority', chosen.Priority);
	await typeInto('SampleInterval', chosen.SampleInterval);
	await page.select(`${field('Family')} select`, chosen.Family);
	await page.select(`${field('RuleShape')} select`, chosen.RuleShape);
	await pickInDropdown('Protocols', 'icmp');
	await pickInDropdown('Hooks', 'prerouting');
	await toggleFlag('ReportBytes');
	await toggleFlag('OwnerFlag');
	await page.type(`${field('SampleCounters')} .add-item input`, chosen.SampleCounters[0]);
	await page.$eval(`${field('SampleCounters')} .add-item .cbi-button-add`, (b) => b.click());
	for (const o of ['Table', 'Priority', 'SampleInterval'])
		check((await validity(o)).valid, `${o} "${chosen[o]}" accepted`);
	const now = await values();
	for (const [o, v] of Object.entries(chosen))
		check(same(norm(o, now[o]), norm(o, v)), `dialog holds ${o} = ${JSON.stringify(v)}`, `holds ${JSON.stringify(now[o])}`);

	await page.$eval('.modal .cbi-button-positive', (b) => b.click());
	await page.waitForSelector('.modal', { hidden: true });
	const summary = await page.$eval(`tr[data-sid="${SID}"] [data-name="_dummy"]`, (td) => td.textContent);
	check(/tcp, udp, icmp/.test(summary) && /lab_stats/.test(summary), `row summary "${summary}"`);

	// Save & Apply, then the file on the lab's disk.
	await page.$eval('.cbi-page-actions .cbi-button-apply', (b) => b.click());
	const saved = await until('the applied settings in /etc/config/luci_statistics', () => {
		const s = parseUci(fs.readFileSync(uciFile, 'utf8'))[SID];
		return s && s.Table === chosen.Table ? s : null;
	}, 60000);
	for (const [o, v] of Object.entries(chosen))
		check(same(norm(o, saved[o]), norm(o, v)), `luci_statistics: ${SID}.${o} = ${JSON.stringify(v)}`, `is ${JSON.stringify(saved[o])}`);
	for (const o of options.filter((x) => !(x in chosen) && x in saved))
		check(same(norm(o, [].concat(saved[o])), norm(o, [].concat(expectedDefault(o)))), `luci_statistics: untouched ${o} holds its default`,
			`is ${JSON.stringify(saved[o])}`);
	// LuCI confirms the applied changes (rollback timer stopped) and leaves none pending.
	await until('LuCI to confirm the apply', () => page.evaluate(() =>
		!document.querySelector('#applyreboot-container, .spinning') &&
		!/Unsaved Changes: [1-9]/.test(document.querySelector('#indicators, header')?.textContent || '')), 60000);
	check(true, 'changes applied and confirmed');
	await page.reload();
	await page.waitForSelector(`tr[data-sid="${SID}"]`);
	const after = await page.$eval(`tr[data-sid="${SID}"] [data-name="_dummy"]`, (td) => td.textContent);
	check(/lab_stats/.test(after), `after reloading, the row still says "${after}"`);
	if (process.env.CHECK_PLUGINUTIL) {
		// LuCI's own cpu view, made to use statistics/pluginUtil.js: its dialog has pluginUtil's
		// enable flag and Interval, so the module loaded and works beside ours.
		await page.click('.cbi-tabmenu [data-tab="statistics_general"] a');
		await page.waitForSelector('tr[data-sid="collectd_cpu"]', { visible: true });
		await page.$eval('tr[data-sid="collectd_cpu"] .cbi-button-edit', (b) => b.click());
		await page.waitForSelector('.modal [id="cbid.luci_statistics.collectd_cpu.enable"]', { visible: true });
		const cpuOpts = await page.$$eval('.modal .cbi-value[data-name], .modal [data-name]', (els) => els.map((e) => e.getAttribute('data-name')));
		check(cpuOpts.includes('enable') && cpuOpts.includes('Interval'),
			`pluginUtil: LuCI's cpu view through pluginUtil.addCommonOptions shows enable and Interval (${cpuOpts.join(', ')})`);
		await page.$eval('.modal .cbi-button', (b) => b.click());  // Dismiss
		await page.waitForSelector('.modal', { hidden: true });
		const loaded = await page.evaluate(() => performance.getEntriesByType('resource').some((r) => /statistics\/pluginUtil\.js/.test(r.name)));
		check(loaded, 'pluginUtil: the browser loaded statistics/pluginUtil.js');
	}
} catch (e) {
	check(false, 'the walk through Statistics > Setup', e.stack);
}
check(watcher.state.loginPage403 === 1, 'the login page answered 403 once (LuCI before login)', `${watcher.state.loginPage403} times`);
console.log(`note: luci-peeraddr (luci-mod-network, not in the subset) answered 404 ${watcher.state.peeraddr404} times`);
check(watcher.problems.length === 0, 'no console error, page error or failed request', `\n  ${watcher.problems.join('\n  ')}`);
console.log(`setup: browser part took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
await close();
process.exit(failed() ? 1 : 0);
