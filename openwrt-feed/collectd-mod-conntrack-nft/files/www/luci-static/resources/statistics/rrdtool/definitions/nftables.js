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
var STATES = [ 'new', 'established', 'related', 'untracked', 'invalid' ];
var COUNTER = /^(\w+?)_conntrack_(prerouting|input|fwd|output|postrouting)_(new|established|related|invalid|untracked)$/;

/* One hue per state; tcp darker, udp lighter, icmp/icmpv6 in between. Invalid is red. */
var STATE_COLORS = {
	new:         { tcp: '1f4e9e', udp: '6f9fe6', other: '3f74c6' },
	established: { tcp: '1c7c2c', udp: '74c476', other: '41a04f' },
	related:     { tcp: '7a4fa0', udp: 'b79ad6', other: '9a73bd' },
	untracked:   { tcp: '666666', udp: 'aaaaaa', other: '888888' },
	invalid:     { tcp: 'e00000', udp: 'ff7f00', other: 'b0006e' }
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

function color(c) {
	var shades = STATE_COLORS[c.state];
	return shades[c.protocol] || shades.other;
}

/* Valid states stacked as areas, in a fixed order; invalid as a bold line on top. */
function lineOptions(c) {
	var invalid = (c.state == 'invalid');

	return {
		title: '%s %s'.format(c.protocol, c.state),
		color: color(c),
		overlay: invalid,
		noarea: invalid,
		weight: (invalid ? 100 : 0) + STATES.indexOf(c.state) * 10 + (c.protocol == 'tcp' ? 0 : 1)
	};
}

function hookGraph(type, hook, instances, opts) {
	var options = {}, perType = {};

	instances.forEach(function(i) {
		options[type + '_' + i] = lineOptions(parse(i));
	});
	perType[type] = instances;

	return Object.assign({
		title: '%H: ' + opts.what + ' at ' + HOOK_TITLES[hook] + ' (%pi)',
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

function byHook(instances) {
	var hooks = {};

	instances.forEach(function(i) {
		var c = parse(i);
		if (c)
			(hooks[c.hook] = hooks[c.hook] || []).push(i);
	});

	return hooks;
}

return baseclass.extend({
	title: _('Conntrack counters (nftables)'),

	rrdargs: function(graph, host, plugin, plugin_instance, dtype) {
		var graphs = [],
		    types = graph.dataTypes(host, plugin, plugin_instance),
		    packets = graph.dataInstances(host, plugin, plugin_instance, 'packets'),
		    hooks = byHook(packets);

		/* Per hook: packets per second of each protocol and state. */
		HOOKS.forEach(function(hook) {
			if (hooks[hook])
				graphs.push(hookGraph('packets', hook, hooks[hook], {
					what: 'Conntrack packets', vlabel: 'Packets/s', number_format: '%5.1lf%s'
				}));
		});

		/* Counters of a table not made by the plugin (Manage false): one graph, as they come. */
		var others = packets.filter(function(i) { return !parse(i); });
		if (others.length)
			graphs.push({
				title: '%H: nftables counters (%pi)',
				vlabel: 'Packets/s',
				number_format: '%5.1lf%s',
				data: {
					types: [ 'packets' ],
					instances: { packets: others },
					options: { packets: { title: '%di', noarea: true, overlay: true } }
				}
			});

		/* Bytes (ReportBytes true), per hook, in the details. */
		var bytes = byHook(graph.dataInstances(host, plugin, plugin_instance, 'total_bytes'));
		HOOKS.forEach(function(hook) {
			if (bytes[hook])
				graphs.push(hookGraph('total_bytes', hook, bytes[hook], {
					what: 'Conntrack bytes', vlabel: 'Bytes/s', number_format: '%5.1lf%sB',
					graph: { detail: true }
				}));
		});

		/* SampleInterval: highest and lowest per-second rate in each interval, per hook; peaks
		 * as lines, lows as faint areas below them. */
		if (types.indexOf(SAMPLED_PEAK_TYPE) > -1 || types.indexOf(SAMPLED_LOW_TYPE) > -1) {
			var peaks = byHook(graph.dataInstances(host, plugin, plugin_instance, SAMPLED_PEAK_TYPE)),
			    lows = byHook(graph.dataInstances(host, plugin, plugin_instance, SAMPLED_LOW_TYPE));

			HOOKS.forEach(function(hook) {
				var p = peaks[hook] || [], l = lows[hook] || [];

				if (!p.length && !l.length)
					return;

				var options = {}, perType = {};
				if (p.length)
					perType[SAMPLED_PEAK_TYPE] = p;
				if (l.length)
					perType[SAMPLED_LOW_TYPE] = l;
				p.forEach(function(i) {
					var c = parse(i);
					options[SAMPLED_PEAK_TYPE + '_' + i] = { title: '%s %s peak'.format(c.protocol, c.state), color: color(c), noarea: true, overlay: true };
				});
				l.forEach(function(i) {
					var c = parse(i);
					options[SAMPLED_LOW_TYPE + '_' + i] = { title: '%s %s low'.format(c.protocol, c.state), color: color(c), overlay: true };
				});

				graphs.push({
					title: '%H: Peak and low packet rates at ' + HOOK_TITLES[hook] + ' (%pi)',
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
