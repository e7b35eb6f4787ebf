// Loads the LuCI files of openwrt-feed/ in Node with small stand-ins for what LuCI gives them,
// and checks them against the plugin:
//  - the settings view: every option it declares is in the plugin JSON's legend, in the
//    legend part its widget writes (bools: Flag, lists: MultiValue/DynamicList), and is a key the
//    plugin accepts (plugin/plugin_config.cpp's kKeys, the list its error message prints);
//    every accepted key is offered; defaults and choices equal docs/configuration.md's;
//  - the graph definitions: rrdargs on a sample RRD tree gives per-hook graphs with invalid
//    standing out, fill and drops, peak/low graphs with sampling, in the order LuCI's renderer
//    needs (overview graphs first).
//   node check_luci.mjs REPOSITORY_ROOT
import fs from 'node:fs';
import path from 'node:path';

const root = process.argv[2];
if (!root || !fs.existsSync(path.join(root, 'CMakeLists.txt'))) {
	console.error('usage: node check_luci.mjs REPOSITORY_ROOT');
	process.exit(2);
}
const files = path.join(root, 'openwrt-feed/collectd-mod-conntrack-nft/files');
const VIEW = path.join(files, 'www/luci-static/resources/view/statistics/plugins/conntrack_nft.js');
const LEGEND = path.join(files, 'usr/share/luci/statistics/plugins/conntrack_nft.json');
const DEFS = path.join(files, 'www/luci-static/resources/statistics/rrdtool/definitions');

let failed = 0;
const ok = (what) => console.log(`ok: ${what}`);
const fail = (what) => { console.log(`FAIL: ${what}`); failed++; };
const check = (cond, what, why) => (cond ? ok(what) : fail(why ? `${what}: ${why}` : what));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// ---- what the plugin accepts, what the docs say ----------------------------------------------
const configCpp = fs.readFileSync(path.join(root, 'plugin/plugin_config.cpp'), 'utf8');
const kKeys = /kKeys\s*=\s*((?:\s*"[^"]*")+)\s*;/.exec(configCpp);
if (!kKeys) {
	console.log('FAIL: kKeys (the accepted keys) not found in plugin/plugin_config.cpp');
	process.exit(1);
}
const accepted = [...kKeys[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('').split(',').map((k) => k.trim()).filter(Boolean);

// | `Key` | default | accepted values | meaning | rows of docs/configuration.md's option table.
const docs = {};
for (const line of fs.readFileSync(path.join(root, 'docs/configuration.md'), 'utf8').split('\n')) {
	const m = /^\| `(\w+)` \| ([^|]*) \| ([^|]*) \|/.exec(line);
	if (!m) continue;
	const ticks = (cell) => [...cell.matchAll(/`([^`]*)`/g)].map((t) => t[1].replace(/^"(.*)"$/, '$1'));
	docs[m[1]] = { defaults: ticks(m[2]), accepted: ticks(m[3]) };
}

// ---- stand-ins for LuCI ----------------------------------------------------------------------
String.prototype.format = function(...args) {  // LuCI's String.format: %s, %d, %%
	let i = 0;
	return this.replace(/%(%|-?\d*[sd])/g, (m, f) => (f === '%' ? '%' : String(args[i++])));
};
const L = {
	toArray: (x) => (x == null ? [] : Array.isArray(x) ? x : String(x).split(/\s+/).filter(Boolean)),
	isObject: (x) => x !== null && typeof x === 'object',
};
const E = () => ({});
const tr = (s) => s;
const ntr = (n, one, many) => (n === 1 ? one : many);
const baseclass = { extend: (o) => o };
const widget = (kind) => ({ kind });
const form = Object.fromEntries(['Flag', 'Value', 'ListValue', 'MultiValue', 'DynamicList', 'TextValue'].map((k) => [k, widget(k)]));
const COMMON = new Set(['enable', 'Interval']);  // luci-app-statistics' own (pluginUtil), not plugin keys
const pluginUtil = {
	addCommonOptions(s) {
		s.option(form.Flag, 'enable', 'Enable this plugin');
		s.option(form.Value, 'Interval', 'Interval');
		return s;
	},
};
const modules = { baseclass, form, 'statistics.pluginUtil': pluginUtil };

// Runs a LuCI module's source: 'require name [as alias]' directives become parameters.
function loadModule(file) {
	const src = fs.readFileSync(file, 'utf8');
	const names = [], values = [];
	for (const m of src.matchAll(/^'require ([\w.]+)(?: as (\w+))?';$/gm)) {
		if (!(m[1] in modules)) {
			fail(`${path.basename(file)} requires '${m[1]}', which this check has no stand-in for`);
			continue;
		}
		names.push(m[2] || m[1].split('.').pop());
		values.push(modules[m[1]]);
	}
	return new Function('L', 'E', '_', 'N_', ...names, src)(L, E, tr, ntr, ...values);
}

// A form section that records every option declared.
function recordingSection() {
	const options = [];
	return {
		options,
		option(cls, name, title, description) {
			if (!cls || !cls.kind) throw new Error(`option ${name}: not a form class`);
			const o = { kind: cls.kind, name, title, description, values: [], deps: [],
				value(key) { this.values.push(key); }, depends(a, b) { this.deps.push(typeof a === 'object' ? a : { [a]: b }); } };
			options.push(o);
			return o;
		},
	};
}

// ---- the settings view -----------------------------------------------------------------------
const legendJson = JSON.parse(fs.readFileSync(LEGEND, 'utf8'));
check(legendJson.category === 'network', 'plugin JSON: category network', `is ${legendJson.category}`);
check(typeof legendJson.title === 'string' && legendJson.title.length > 0, 'plugin JSON: title');
const [singles, bools, lists] = legendJson.legend || [];
check(Array.isArray(singles) && Array.isArray(bools) && Array.isArray(lists) && legendJson.legend.length === 3,
	'plugin JSON: legend is [[singles], [bools], [lists]]');
// stat-genconfig writes each list value under the singular key.
const singular = (k) => { const m = /^(\w+)ses$/.exec(k); return m ? `${m[1]}s` : k.replace(/^(\w+)s$/, '$1'); };
const legendKey = {};
for (const k of singles) legendKey[k] = { part: 'singles', key: k };
for (const k of bools) legendKey[k] = { part: 'bools', key: k };
for (const k of lists) legendKey[k] = { part: 'lists', key: singular(k) };

const view = loadModule(VIEW);
check(typeof view.addFormOptions === 'function' && typeof view.configSummary === 'function',
	'view: addFormOptions and configSummary');
check(typeof view.title === 'string' && typeof view.description === 'string', 'view: title and description');
const s = recordingSection();
view.addFormOptions(s);
const declared = s.options.filter((o) => !COMMON.has(o.name));
check(s.options.some((o) => o.name === 'enable'), 'view: has the enable flag (pluginUtil.addCommonOptions)');
console.log(`view declares: ${declared.map((o) => `${o.name} (${o.kind})`).join(', ')}`);

const widgetFor = { singles: ['Value', 'ListValue'], bools: ['Flag'], lists: ['MultiValue', 'DynamicList'] };
const seenKeys = new Set();
for (const o of declared) {
	const lk = legendKey[o.name];
	if (!lk) { fail(`${o.name}: declared by the view but not in the legend, so it never reaches collectd`); continue; }
	check(widgetFor[lk.part].includes(o.kind), `${o.name}: ${o.kind} fits the legend's ${lk.part}`,
		`the generator treats ${lk.part} as ${widgetFor[lk.part].join('/')}`);
	check(accepted.includes(lk.key), `${o.name}: writes ${lk.key}, a key the plugin accepts`,
		`the plugin accepts ${accepted.join(', ')}`);
	seenKeys.add(lk.key);
	check(o.deps.length > 0 && o.deps.every((d) => d.enable === '1'), `${o.name}: shown only when the plugin is enabled`);

	const doc = docs[lk.key];
	if (o.default !== undefined) {
		if (!doc) { fail(`${o.name}: has a default but docs/configuration.md has no row for ${lk.key}`); continue; }
		let want = doc.defaults;
		let have = L.toArray(o.default);
		if (lk.part === 'bools') { want = want.map((v) => ({ true: '1', false: '0' })[v]); have = [String(o.default)]; }
		if (lk.part === 'singles') have = [String(o.default)];
		check(same(have, want), `${o.name}: default ${JSON.stringify(have)} equals the plugin's`,
			`the plugin's default is ${JSON.stringify(doc.defaults)}`);
	}
	if (o.values.length && doc)
		check(same([...o.values].sort(), [...doc.accepted].sort()), `${o.name}: choices are the accepted values`,
			`view offers ${o.values.join(', ')}; docs accept ${doc.accepted.join(', ')}`);
}
for (const k of [...singles, ...bools, ...lists])
	check(declared.some((o) => o.name === k), `legend ${k}: declared by the view`);
for (const k of accepted)
	check(seenKeys.has(k), `plugin key ${k}: offered by the view`, `add it to ${path.relative(root, VIEW)} and the legend`);

// Widgets' own checks behave.
const opt = (n) => declared.find((o) => o.name === n) || {};
if (opt('Table').validate) {
	check(opt('Table').validate('x', 'conntrack_stats') === true && opt('Table').validate('x', '9bad') !== true &&
		opt('Table').validate('x', 'a'.repeat(64)) !== true, 'Table: validate accepts a name, rejects 9bad and 64 characters');
}
check(/min\(-199\)/.test(opt('Priority').datatype || ''), 'Priority: datatype allows down to -199 only');
const summary = view.configSummary({ Protocols: ['tcp', 'icmp'], Hooks: 'forward', Family: 'inet' });
check(/tcp, icmp/.test(summary) && /forward/.test(summary) && /inet/.test(summary), `configSummary: "${summary}"`);
check(/Reading/.test(view.configSummary({ Manage: '0' })), 'configSummary: attach mode');

// ---- graph definitions -----------------------------------------------------------------------
// A stand-in of statistics.rrdtool over a sample RRD tree: host/plugin-instance/type-instance.
function rrdGraph(tree) {
	return {
		dataTypes: (h, p, pi) => Object.keys((tree[`${p}${pi ? '-' + pi : ''}`]) || {}).sort(),
		dataInstances: (h, p, pi, t) => [...(((tree[`${p}${pi ? '-' + pi : ''}`]) || {})[t] || [])].sort(),
	};
}
const counters = [];
for (const proto of ['tcp', 'udp']) for (const hook of ['input', 'fwd']) for (const state of ['new', 'established', 'invalid'])
	counters.push(`${proto}_conntrack_${hook}_${state}`);
const tree = {
	'nftables-conntrack_stats': { packets: counters, total_bytes: counters, packets_peak: counters, packets_low: counters },
	'nftables-mine': { packets: ['my_counter'] },
	conntrack_nft: { percent: ['used'], conntrack: ['entries', 'max'], count: ['flowtables'],
		operations: ['found', 'invalid', 'insert', 'insert_failed', 'drop', 'early_drop', 'error', 'search_restart'] },
	'conntrack_nft-cpu0': { operations: ['found', 'drop'] },
};
const graph = rrdGraph(tree);

function orderOk(graphs, what) {
	const firstDetail = graphs.findIndex((g) => g.detail);
	check(graphs.length > 0 && !graphs[0].detail && (firstDetail < 0 || graphs.slice(firstDetail).every((g) => g.detail)),
		`${what}: overview graphs first, then details`);
}
function sources(g) {  // [type, instance, options] as LuCI's renderer resolves them
	const out = [];
	for (const t of g.data.types || Object.keys(g.data.instances || {}))
		for (const i of (g.data.instances || {})[t] || [''])
			out.push([t, i, (g.data.options || {})[`${t}_${i}`] || (g.data.options || {})[t] || {}]);
	return out;
}
function rrdsExist(graphs, plugin, what) {
	const missing = [];
	for (const g of graphs) for (const [t, i] of sources(g))
		if (!(tree[plugin][t] || []).includes(i)) missing.push(`${t}-${i}`);
	check(missing.length === 0, `${what}: every graphed RRD exists`, `missing ${missing.join(', ')}`);
}

const nft = loadModule(path.join(DEFS, 'nftables.js'));
let g = nft.rrdargs(graph, 'router', 'nftables', 'conntrack_stats', null);
orderOk(g, 'nftables.js');
rrdsExist(g, 'nftables-conntrack_stats', 'nftables.js');
const packetGraphs = g.filter((x) => x.data.types.includes('packets'));
check(same(packetGraphs.map((x) => x.title.replace(/.* at (\w+) .*/, '$1')), ['input', 'forward']),
	'nftables.js: one packets graph per hook present (input, forward)', JSON.stringify(packetGraphs.map((x) => x.title)));
check(packetGraphs.every((x) => !x.detail), 'nftables.js: per-hook packet rates in the overview');
for (const x of packetGraphs) {
	const src = sources(x);
	const invalid = src.filter(([, i]) => i.endsWith('_invalid')), valid = src.filter(([, i]) => !i.endsWith('_invalid'));
	check(invalid.length === 2 && valid.length === 4, `${x.title}: 4 valid and 2 invalid lines`);
	check(invalid.every(([, , o]) => o.noarea && o.overlay && /^(e0|ff|b0)/.test(o.color)),
		`${x.title}: invalid drawn as red/orange bold lines over the rest`);
	check(valid.every(([, , o]) => !o.noarea && !o.overlay), `${x.title}: valid states stacked as areas`);
	check(Math.min(...invalid.map(([, , o]) => o.weight)) > Math.max(...valid.map(([, , o]) => o.weight)),
		`${x.title}: invalid drawn last (on top)`);
}
check(g.some((x) => x.detail && x.data.types.includes('total_bytes')), 'nftables.js: bytes graphs in the details');
const sampled = g.filter((x) => x.data.types.includes('packets_peak'));
check(sampled.length === 2 && sampled.every((x) => x.data.types.includes('packets_low') && x.detail),
	'nftables.js: peak/low graphs per hook with sampling');
check(same(nft.rrdargs(rrdGraph({ 'nftables-conntrack_stats': { packets: counters } }), 'router', 'nftables', 'conntrack_stats', null)
	.filter((x) => x.data.types.includes('packets_peak')), []), 'nftables.js: no peak/low graphs without sampling');
g = nft.rrdargs(graph, 'router', 'nftables', 'mine', null);
check(g.length === 1 && same(g[0].data.instances.packets, ['my_counter']), 'nftables.js: other counters (Manage false) graphed as they come');

const health = loadModule(path.join(DEFS, 'conntrack_nft.js'));
g = health.rrdargs(graph, 'router', 'conntrack_nft', '', null);
orderOk(g, 'conntrack_nft.js');
rrdsExist(g, 'conntrack_nft', 'conntrack_nft.js');
check(g[0].data.types[0] === 'percent' && g[0].y_max === '100', 'conntrack_nft.js: fill percent first, 0 to 100');
const drops = g.find((x) => /drops/i.test(x.title));
check(drops && !drops.detail && same(drops.data.instances.operations, ['drop', 'early_drop', 'insert_failed', 'error']),
	'conntrack_nft.js: drops in the overview');
check(g.some((x) => x.data.types.includes('count') && /[Ff]lowtable/.test(x.title)), 'conntrack_nft.js: flowtables graph');
g = health.rrdargs(graph, 'router', 'conntrack_nft', 'cpu0', null);
orderOk(g, 'conntrack_nft.js cpu0');
rrdsExist(g, 'conntrack_nft-cpu0', 'conntrack_nft.js cpu0');

// LuCI splits RRD names on the first '-': no '-' in plugin or type names.
for (const x of [...nft.rrdargs(graph, 'router', 'nftables', 'conntrack_stats', null), ...health.rrdargs(graph, 'router', 'conntrack_nft', '', null)])
	for (const t of x.data.types) if (t.includes('-')) fail(`type ${t} has a '-'`);

console.log(failed ? `check_luci: ${failed} FAILED` : 'check_luci: passed');
process.exit(failed ? 1 : 0);
