'use strict';
'require baseclass';

/*
 * Graphs of the nftables counters that conntrack_nft dispatches as
 * <host>/nftables-<table>/packets-<protocol>_conntrack_<hook>_<state> (the identifiers of the
 * classic Exec script, so a script-fed RRD graphs the same). LuCI picks graph definitions by
 * the RRD plugin name, which is "nftables" here; conntrack_nft.js graphs the plugin's own
 * conntrack statistics.
 */

var HOOKS = [ 'prerouting', 'input', 'fwd', 'output', 'postrouting' ];
var HOOK_TITLES = { prerouting: 'prerouting', input: 'input', fwd: 'forward', output: 'output', postrouting: 'postrouting' };
var PROTOCOLS = [ 'tcp', 'udp', 'icmp', 'icmpv6' ];
/*
 * LuCI's renderer (statistics/rrdtool.js) draws sources by ascending weight and stacks each on
 * the ones after it: the last is the bottom of the stack. So established, the bulk, is last of
 * the stacked states (the bottom), and invalid, a line not stacked, is drawn after every area.
 * (A weight of 0 would mean "none": they start at 1.)
 */
/*
 * offloaded (CountOffloaded, forward only): packets of offloaded connections, which skipped the
 * forward hook; stacked at the bottom, so that the stack is again all forwarded traffic.
 */
var WEIGHT = { new: 1, related: 2, untracked: 3, established: 4, offloaded: 5, invalid: 9 };
var COUNTER = /^(\w+?)_conntrack_(prerouting|input|fwd|output|postrouting)_(new|established|related|invalid|untracked|offloaded)$/;

/* One colour per state, the same in every graph; invalid is red. */
var STATE_COLORS = {
	established: '1c7c2c', new: '1f4e9e', related: '7a4fa0', untracked: '888888', invalid: 'e00000',
	offloaded: '8fd18f'
};

/*
 * Sub-interval sampling (SampleInterval): per counter and interval, the highest and the lowest
 * per-second rate seen, as <host>/nftables-<table>/packets_peak-<counter> and packets_low-<counter>
 * (types of plugin/conntrack_nft.types.db). Graphed only where such RRDs exist.
 */
var SAMPLED_PEAK_TYPE = 'packets_peak';
var SAMPLED_LOW_TYPE = 'packets_low';

function parse(instance) {
	var m = COUNTER.exec(instance);
	return m ? { protocol: m[1], hook: m[2], state: m[3] } : null;
}

function order(a, b) {
	return WEIGHT[parse(a).state] - WEIGHT[parse(b).state];
}

/*
 * One graph per hook and protocol (tcp at forward, udp at forward, ...): a handful of states in
 * one box, each in its own colour. Valid states stacked as areas (their sum is all the traffic of
 * that protocol at that hook); invalid as a bold line on top, not stacked, so that a few invalid
 * packets stand out against a lot of established ones.
 */
function stateGraph(type, group, opts) {
	var options = {}, perType = {};

	group.instances.sort(order).forEach(function(i) {
		var c = parse(i), invalid = (c.state == 'invalid');
		options[type + '_' + i] = {
			title: c.state,
			color: STATE_COLORS[c.state],
			overlay: invalid,
			noarea: invalid,
			width: invalid ? 2 : 1,
			weight: WEIGHT[c.state]
		};
	});
	perType[type] = group.instances;

	return Object.assign({
		title: '%H: ' + opts.what + ' at ' + HOOK_TITLES[group.hook] + ': ' + group.protocol + ' (%pi)',
		vlabel: opts.vlabel,
		number_format: opts.number_format,
		y_min: '0',
		data: {
			types: [ type ],
			instances: perType,
			options: options
		}
	}, opts.graph || {});
}

/* Counters grouped by hook, then protocol, in a fixed order: [{ hook, protocol, instances }]. */
function groups(instances) {
	var by = {}, out = [];

	instances.forEach(function(i) {
		var c = parse(i);
		if (c) {
			var key = c.hook + ' ' + c.protocol;
			(by[key] = by[key] || { hook: c.hook, protocol: c.protocol, instances: [] }).instances.push(i);
		}
	});

	HOOKS.forEach(function(hook) {
		PROTOCOLS.concat(Object.keys(by).map(function(k) { return by[k].protocol; }).filter(function(p) {
			return PROTOCOLS.indexOf(p) < 0;
		})).forEach(function(protocol) {
			var g = by[hook + ' ' + protocol];
			if (g && out.indexOf(g) < 0)
				out.push(g);
		});
	});

	return out;
}

return baseclass.extend({
	title: _('Conntrack counters (nftables)'),

	rrdargs: function(graph, host, plugin, plugin_instance, dtype) {
		var graphs = [],
		    types = graph.dataTypes(host, plugin, plugin_instance),
		    packets = graph.dataInstances(host, plugin, plugin_instance, 'packets');

		/* Per hook and protocol: packets per second of each state. */
		groups(packets).forEach(function(g) {
			graphs.push(stateGraph('packets', g, {
				what: 'Packets', vlabel: 'Packets/s', number_format: '%5.1lf%s'
			}));
		});

		/* Counters of a table not made by the plugin (Manage false): one graph, as they come. */
		var others = packets.filter(function(i) { return !parse(i); });
		if (others.length)
			graphs.push({
				title: '%H: nftables counters (%pi)',
				vlabel: 'Packets/s',
				number_format: '%5.1lf%s',
				y_min: '0',
				data: {
					types: [ 'packets' ],
					instances: { packets: others },
					options: { packets: { title: '%di', noarea: true, overlay: true } }
				}
			});

		/* Bytes (ReportBytes true), the same way, in the details. */
		groups(graph.dataInstances(host, plugin, plugin_instance, 'total_bytes')).forEach(function(g) {
			graphs.push(stateGraph('total_bytes', g, {
				what: 'Bytes', vlabel: 'Bytes/s', number_format: '%5.1lf%sB', graph: { detail: true }
			}));
		});

		/*
		 * SampleInterval: per hook, protocol and state, the highest and the lowest per-second rate
		 * within each interval, in the details: the peak as a line, the low as an area under it,
		 * in the state's colour. The gap between them is what an interval's average hides.
		 */
		if (types.indexOf(SAMPLED_PEAK_TYPE) > -1 || types.indexOf(SAMPLED_LOW_TYPE) > -1) {
			var peaks = graph.dataInstances(host, plugin, plugin_instance, SAMPLED_PEAK_TYPE),
			    lows = graph.dataInstances(host, plugin, plugin_instance, SAMPLED_LOW_TYPE);

			groups(peaks.concat(lows.filter(function(i) { return peaks.indexOf(i) < 0; }))).forEach(function(g) {
				var options = {}, perType = {}, p = [], l = [];

				/* Lows (areas) first, then peaks (lines) over them. */
				g.instances.sort(order).forEach(function(i) {
					var c = parse(i);
					if (lows.indexOf(i) > -1) {
						l.push(i);
						options[SAMPLED_LOW_TYPE + '_' + i] = { title: c.state + ' low', color: STATE_COLORS[c.state], overlay: true, weight: WEIGHT[c.state] };
					}
					if (peaks.indexOf(i) > -1) {
						p.push(i);
						options[SAMPLED_PEAK_TYPE + '_' + i] = { title: c.state + ' peak', color: STATE_COLORS[c.state], noarea: true, overlay: true, width: 2, weight: 10 + WEIGHT[c.state] };
					}
				});
				if (p.length)
					perType[SAMPLED_PEAK_TYPE] = p;
				if (l.length)
					perType[SAMPLED_LOW_TYPE] = l;

				graphs.push({
					title: '%H: Peak and low packet rates at ' + HOOK_TITLES[g.hook] + ': ' + g.protocol + ' (%pi)',
					vlabel: 'Packets/s',
					number_format: '%5.1lf%s',
					y_min: '0',
					detail: true,
					data: {
						types: Object.keys(perType),
						instances: perType,
						options: options
					}
				});
			});
		}

		/* LuCI's renderer needs at least one overview graph (detail false), placed first. */
		if (!graphs.length)
			graphs.push({ title: '%H: nftables (%pi)', data: { types: types } });
		return graphs;
	}
});
