// Statistics > Graphs in the real LuCI of the lab: our two graph definitions (nftables.js for the
// counters, conntrack_nft.js for conntrack's health) are listed as tabs and drawn by rrdtool
// through cgi-exec; every graph (overview and details) is a PNG the browser decodes; no console
// error, page error or failed request.
//   node graphs.mjs [PICTURES_DIR]   (keeps every graph as PNG, and a screenshot, there)
import fs from 'node:fs';
import path from 'node:path';
import { launch, watch, login, check, failed, until } from './browser.mjs';

const [out] = process.argv.slice(2);
if (out)
	fs.mkdirSync(out, { recursive: true });

const { browser, close } = await launch();
const page = await browser.newPage();
// Tall enough for every graph of a tab: resizing the window later would make LuCI redraw (and its
// graphs.js trips over its own resize handler when no instance tab is active).
await page.setViewport({ width: 1280, height: 4000 });
const watcher = watch(page);
const t0 = Date.now();

// Every image in the plugin's tab once LuCI has drawn them and the browser has decoded them:
// [{ tab, png (base64), w, h, decoded, bytes, head }]. LuCI swaps the spinner for all the tab's
// images at once; img.decode() then settles once the browser has the picture, or knows it has
// none (an empty or broken answer from cgi-exec: head shows what came instead).
async function graphsOf(plugin) {
	await page.click(`.cbi-tabmenu [data-tab="${plugin}"] a`);
	const sel = `div[data-tab="${plugin}"]`;
	await until(`the ${plugin} graphs`, () => page.$eval(sel, (div) =>
		!div.querySelector('.spinning') && div.querySelectorAll('img').length > 0), 60000);
	return page.$eval(sel, async (div) => Promise.all([...div.querySelectorAll('img')].map(async (img) => {
		let decoded = true;
		try {
			await Promise.race([img.decode(), new Promise((resolve, reject) => setTimeout(() => reject(new Error('not decoded within 30 s')), 30000))]);
		} catch (e) {
			decoded = false;
		}
		const blob = await (await fetch(img.src)).blob();
		const bytes = new Uint8Array(await blob.arrayBuffer());
		let bin = '';
		for (const b of bytes) bin += String.fromCharCode(b);
		const tab = img.closest('[data-tab-title]');
		return { tab: tab ? tab.getAttribute('data-tab-title') : '', png: btoa(bin), w: img.naturalWidth, h: img.naturalHeight,
			decoded, bytes: bytes.length, head: bin.slice(0, 80).replace(/[^\x20-\x7e]/g, '.') };
	})));
}

try {
	await login(page, watcher, '/admin/statistics/graphs');
	await page.waitForSelector('.cbi-tabmenu [data-tab="nftables"]', { timeout: 30000 });
	const tabs = await page.$$eval('.cbi-tabmenu li[data-tab]', (lis) => lis.map((li) => li.getAttribute('data-tab')));
	check(tabs.includes('nftables') && tabs.includes('conntrack_nft'), `Graphs lists our definitions (tabs: ${tabs.join(', ')})`);
	const titles = await page.$$eval('.cbi-tabmenu li[data-tab] a', (as) => as.map((a) => a.textContent.trim()));
	check(titles.includes('Conntrack counters (nftables)') && titles.includes('Conntrack health'), `tab titles: ${titles.join(', ')}`);

	// What graphs.sh recorded: tcp and udp at input, forward and output, with bytes and sampling:
	// per hook and protocol one packets, one bytes and one peak/low graph. Conntrack health: fill
	// and drops in the overview, entries, table size, lookups and flowtables in the details; per
	// CPU drops (overview) and lookups (details). With several instances LuCI adds an Overview tab
	// (every instance's overview graphs) to one tab per instance (all its graphs).
	const cpus = +process.env.EXPECT_CPUS;
	const expected = { nftables: 3 * 2 * 3, conntrack_nft: (2 + cpus) + 6 + 2 * cpus };
	for (const plugin of ['nftables', 'conntrack_nft']) {
		const graphs = await graphsOf(plugin);
		check(graphs.length === expected[plugin], `${plugin}: ${graphs.length} graphs drawn`, `expected ${expected[plugin]}`);
		if (plugin == 'conntrack_nft') {
			const tabs = [...new Set(graphs.map((g) => g.tab))];
			check(tabs.filter((t) => /cpu\d+$/.test(t)).length === cpus && tabs.some((t) => /Overview/.test(t)), `conntrack_nft: one tab per CPU (${tabs.join(', ')})`);
		}
		const bad = graphs.filter((g) => !(g.decoded && g.w > 300 && g.h > 100 && g.png.startsWith('iVBORw0KGgo')));
		check(bad.length === 0,
			`${plugin}: every graph is a PNG the browser decoded (${graphs.map((g) => `${g.w}x${g.h}`).join(' ')})`,
			bad.map((g) => `${g.tab || plugin}: ${g.bytes} bytes, ${g.decoded ? 'decoded' : 'not decoded'}, ${g.w}x${g.h}: "${g.head}"`).join('; '));
		if (out) {
			graphs.forEach((g, i) => fs.writeFileSync(path.join(out, `graph-${plugin}-${String(i + 1).padStart(2, '0')}.png`), Buffer.from(g.png, 'base64')));
			{
				// The top of the page, a clip of the viewport (already tall enough): no window resize.
				const box = await (await page.$('#view')).boundingBox();
				await page.screenshot({ path: path.join(out, `graphs-${plugin}.png`), captureBeyondViewport: false,
					clip: { x: box.x, y: 0, width: box.width, height: Math.min(1300, box.y + box.height) } });
			}
		}
	}
} catch (e) {
	check(false, 'the walk through Statistics > Graphs', e.stack);
}
check(watcher.state.loginPage403 === 1, 'the login page answered 403 once (LuCI before login)', `${watcher.state.loginPage403} times`);
check(watcher.problems.length === 0, 'no console error, page error or failed request', `\n  ${watcher.problems.join('\n  ')}`);
console.log(`graphs: browser part took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
await close();
process.exit(failed() ? 1 : 0);
