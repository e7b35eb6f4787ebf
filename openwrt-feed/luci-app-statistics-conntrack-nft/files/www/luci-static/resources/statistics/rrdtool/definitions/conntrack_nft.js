'use strict';
'require baseclass';

/*
 * Graphs of the kernel's conntrack statistics that conntrack_nft dispatches (ConntrackStats
 * true): <host>/conntrack_nft/percent-used, conntrack-entries, conntrack-max,
 * operations-<stat>, count-flowtables, and per CPU (PerCPU true) conntrack_nft-cpu<N>/
 * operations-<stat>. The per-hook packet rates are in nftables.js (RRD plugin "nftables").
 */

var DROPS = [ 'drop', 'early_drop', 'insert_failed', 'error' ];
var LOOKUPS = [ 'found', 'invalid', 'insert', 'search_restart', 'clash_resolve', 'chaintoolong' ];

var COLORS = {
	drop: 'e00000', early_drop: 'ff7f00', insert_failed: 'b0006e', error: '7a0000',
	found: '1c7c2c', invalid: 'e00000', insert: '1f4e9e', search_restart: 'b79ad6',
	clash_resolve: 'aaaaaa', chaintoolong: 'ff7f00'
};

/*
 * LuCI's renderer needs the overview's graphs (detail false) before the detail graphs, and at
 * least one overview graph per plugin instance.
 */
function ordered(graphs) {
	var out = graphs.filter(function(g) { return !g.detail; })
		.concat(graphs.filter(function(g) { return g.detail; }));
	if (out.length)
		out[0].detail = false;
	return out;
}

function present(graph, host, plugin, plugin_instance, type, wanted) {
	var have = graph.dataInstances(host, plugin, plugin_instance, type);
	return wanted.filter(function(i) { return have.indexOf(i) > -1; });
}

function operationsGraph(title, instances, detail) {
	var options = {};

	instances.forEach(function(i) {
		options['operations_' + i] = { title: i, color: COLORS[i], noarea: true, overlay: true };
	});

	return {
		title: title,
		vlabel: 'Events/s',
		number_format: '%5.2lf%s',
		y_min: '0',
		detail: detail,
		data: {
			types: [ 'operations' ],
			instances: { operations: instances },
			options: options
		}
	};
}

return baseclass.extend({
	title: _('Conntrack health'),

	rrdargs: function(graph, host, plugin, plugin_instance, dtype) {
		/*
		 * conntrack_nft-cpu<N>: one CPU's drops in the overview, its lookups in the details. LuCI
		 * gives an instance a tab of its own only if it has detail graphs, and shows its overview
		 * graphs on the Overview tab: without a detail graph the per-CPU graphs never show.
		 */
		if (plugin_instance)
			return ordered([
				operationsGraph('%H: Conntrack drops and failures on %pi',
					present(graph, host, plugin, plugin_instance, 'operations', DROPS), false),
				operationsGraph('%H: Conntrack lookups and inserts on %pi',
					present(graph, host, plugin, plugin_instance, 'operations', LOOKUPS), true)
			].filter(function(g) { return g.data.instances.operations.length; }));

		var graphs = [];

		if (present(graph, host, plugin, '', 'percent', [ 'used' ]).length)
			graphs.push({
				title: '%H: Conntrack table fill',
				vlabel: 'Percent',
				number_format: '%5.1lf%%',
				y_min: '0',
				y_max: '100',
				data: {
					types: [ 'percent' ],
					instances: { percent: [ 'used' ] },
					options: { percent_used: { title: 'Used (full: new connections dropped)', color: '3f74c6' } }
				}
			});

		var drops = present(graph, host, plugin, '', 'operations', DROPS);
		if (drops.length)
			graphs.push(operationsGraph('%H: Conntrack drops and failures', drops, false));

		/* Entries and the maximum apart: on one axis, 262,144 flattens a few hundred entries to 0
		 * (the fill graph above relates the two). */
		if (present(graph, host, plugin, '', 'conntrack', [ 'entries' ]).length)
			graphs.push({
				title: '%H: Tracked connections',
				vlabel: 'Connections',
				number_format: '%5.0lf%s',
				y_min: '0',
				detail: true,
				data: {
					types: [ 'conntrack' ],
					instances: { conntrack: [ 'entries' ] },
					options: { conntrack_entries: { title: 'Entries', color: '1c7c2c' } }
				}
			});

		if (present(graph, host, plugin, '', 'conntrack', [ 'max' ]).length)
			graphs.push({
				title: '%H: Conntrack table size (net.netfilter.nf_conntrack_max)',
				vlabel: 'Connections',
				number_format: '%5.0lf%s',
				y_min: '0',
				detail: true,
				data: {
					types: [ 'conntrack' ],
					instances: { conntrack: [ 'max' ] },
					options: { conntrack_max: { title: 'Maximum', color: 'e00000', noarea: true } }
				}
			});

		var lookups = present(graph, host, plugin, '', 'operations', LOOKUPS);
		if (lookups.length)
			graphs.push(operationsGraph('%H: Conntrack lookups and inserts', lookups, true));

		if (present(graph, host, plugin, '', 'count', [ 'flowtables' ]).length)
			graphs.push({
				title: '%H: Flowtables (while above 0, forward established and invalid miss offloaded packets)',
				vlabel: 'Flowtables',
				number_format: '%5.0lf',
				y_min: '0',
				detail: true,
				data: {
					types: [ 'count' ],
					instances: { count: [ 'flowtables' ] },
					options: { count_flowtables: { title: 'Flowtables', color: 'ff7f00', noarea: true } }
				}
			});

		return ordered(graphs);
	}
});
