'use strict';
'require baseclass';
'require form';

/*
 * Settings of the conntrack_nft collectd plugin (Statistics > Setup > Network plugins).
 * Option names are the plugin's keys; lists are plural (Protocols, Hooks, States) because
 * LuCI's config generator writes one singular line per value (Protocol tcp, Protocol udp).
 * Every default is the plugin's own (docs/configuration.md), so an untouched option means
 * the same as no option; tests/openwrt checks this.
 *
 * Self-contained on purpose: luci-app-statistics' 'statistics.pluginUtil' helper exists only in
 * LuCI master after mid-2026, and a plugin view that requires a missing module breaks
 * Statistics > Setup for every plugin. The view adds its own 'enable' flag, as LuCI's own plugin
 * views do on 23.05..master; collectd.js ties that flag to the table's Enabled column.
 */

/*
 * The plugin's own rules (plugin/plugin_config.cpp, nft/model.cpp), so that the dialog refuses
 * what the plugin would refuse in the log, with the plugin's words. NFT_KEYWORDS is nft/model.cpp's
 * kReservedWords word for word: tests/openwrt/luci_js.sh fails if the two lists differ, the lab
 * (tests/openwrt/lab/setup.mjs) types every one of them into this dialog in the real LuCI, and
 * both sides run the cases of tests/openwrt/luci/dialog_cases.txt.
 */
var NFT_KEYWORDS = [
	'accept', 'add', 'ah', 'all', 'arp', 'bridge', 'cgroup', 'chain', 'chains', 'comment', 'comp',
	'continue', 'counter', 'counters', 'create', 'ct', 'day', 'dccp', 'define', 'delete', 'describe',
	'destroy', 'device', 'direction', 'dnat', 'drop', 'dst', 'dup', 'element', 'elements', 'esp',
	'ether', 'event', 'expectation', 'export', 'exthdr', 'fib', 'flow', 'flowtable', 'flush',
	'forward', 'frag', 'fwd', 'get', 'goto', 'handle', 'hash', 'hbh', 'helper', 'hook', 'hour',
	'icmp', 'icmpv6', 'iif', 'iifname', 'import', 'include', 'index', 'inet', 'input', 'insert', 'ip',
	'ip6', 'ip6ext', 'jhash', 'jump', 'label', 'last', 'length', 'limit', 'list', 'log', 'map',
	'maps', 'mark', 'masquerade', 'meta', 'meter', 'mh', 'monitor', 'netdev', 'notrack', 'numgen',
	'oif', 'oifname', 'osf', 'output', 'policy', 'postrouting', 'prerouting', 'priority', 'protocol',
	'queue', 'quota', 'quotas', 'random', 'redirect', 'reject', 'rename', 'replace', 'reset',
	'return', 'rt', 'rt0', 'rule', 'ruleset', 'sctp', 'secmark', 'set', 'sets', 'size', 'snat',
	'socket', 'state', 'status', 'symhash', 'synproxy', 'table', 'tables', 'tcp', 'th', 'time',
	'tproxy', 'tunnel', 'type', 'typeof', 'udp', 'udplite', 'version', 'vlan', 'vmap', 'zone'
];
var TABLE_RULE = _('a letter, then letters, digits or _, at most 63 characters, not an nft keyword');

function validTable(section_id, value) {
	if (value == '')
		return true;
	if (value.length > 63)
		return _('The name is %d characters long; use %s').format(value.length, TABLE_RULE);
	if (!/^[A-Za-z]/.test(value))
		return _('"%s" does not start with a letter; use %s').format(value, TABLE_RULE);
	if (!/^[A-Za-z0-9_]*$/.test(value))
		return _('"%s" contains a character other than letters, digits and _; use %s').format(value, TABLE_RULE);
	if (NFT_KEYWORDS.indexOf(value.toLowerCase()) >= 0)
		return _('"%s" is an nft keyword; use %s').format(value, TABLE_RULE);
	return true;
}

/*
 * Seconds as the plugin reads them: a number from 0.05 to 3600, decimals allowed (0.25). The
 * dialog takes plain decimal notation; LuCI's generator writes "0.25" in quotes and the plugin
 * reads a quoted number as a number.
 */
function validSeconds(section_id, value) {
	if (value == '')
		return true;
	var v = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(value) ? Number(value) : NaN;
	if (v >= 0.05 && v <= 3600)
		return true;
	return _('A number of seconds from 0.05 to 3600, e.g. 1 or 0.25');
}

function managed(o) {
	o.depends({ enable: '1', Manage: '1' });
	return o;
}

return baseclass.extend({
	title: _('Conntrack (nftables) Plugin Configuration'),
	description: _('The conntrack_nft plugin counts packets per protocol, hook and connection tracking state (new, established, invalid, ...) with its own nftables table, and reports the kernel\'s conntrack table fill and drops.'),

	addFormOptions: function(s) {
		var o;

		s.option(form.Flag, 'enable', _('Enable this plugin'));

		o = s.option(form.Flag, 'Manage', _('Create and own the table'),
			_('Unchecked: read every named counter of an existing table and never change it.'));
		o.default = '1';
		o.depends('enable', '1');

		o = s.option(form.Value, 'Table', _('Table name'));
		o.default = 'conntrack_stats';
		o.placeholder = 'conntrack_stats';
		o.validate = validTable;
		o.depends('enable', '1');

		o = s.option(form.ListValue, 'Family', _('Address family'),
			_('ip: IPv4 only (as the classic ruleset), ip6: IPv6 only, inet: both'));
		o.value('ip', 'ip (IPv4)');
		o.value('ip6', 'ip6 (IPv6)');
		o.value('inet', 'inet (IPv4 and IPv6)');
		o.default = 'ip';
		o.depends('enable', '1');

		o = managed(s.option(form.MultiValue, 'Protocols', _('Protocols')));
		o.value('tcp');
		o.value('udp');
		o.value('icmp', 'icmp (ip, inet)');
		o.value('icmpv6', 'icmpv6 (ip6, inet)');
		o.default = [ 'tcp', 'udp' ];

		o = managed(s.option(form.MultiValue, 'Hooks', _('Hooks'),
			_('With flow offloading on (Network > Firewall), the forward graphs miss most packets of offloaded TCP and UDP connections: established and invalid fall, while new, input and output stay complete.')));
		o.value('prerouting');
		o.value('input');
		o.value('forward');
		o.value('output');
		o.value('postrouting');
		o.default = [ 'input', 'output', 'forward' ];

		o = managed(s.option(form.MultiValue, 'States', _('Conntrack states')));
		o.value('new');
		o.value('established');
		o.value('related');
		o.value('invalid');
		o.value('untracked');
		o.default = [ 'new', 'established', 'invalid' ];

		o = managed(s.option(form.Value, 'Priority', _('Chain priority'),
			_('Conntrack assigns states at -200; the counting chains must run after it.')));
		o.datatype = 'and(integer,min(-199))';
		o.default = '0';
		o.placeholder = '0';

		o = managed(s.option(form.ListValue, 'RuleShape', _('Rule shape'),
			_('map: one lookup per chain (cheaper per packet); classic: one rule per protocol and state, as the hand-written ruleset.')));
		o.value('map', 'map');
		o.value('classic', 'classic');
		o.default = 'map';

		o = s.option(form.Flag, 'ReportBytes', _('Report bytes'), _('Also report byte counters.'));
		o.default = '0';
		o.depends('enable', '1');

		o = managed(s.option(form.Flag, 'KeepTable', _('Keep table on stop'),
			_('Leave the table and its counter values in the kernel when collectd stops.')));
		o.default = '0';

		o = managed(s.option(form.Flag, 'OwnerFlag', _('Owned table'),
			_('Only collectd can change the table, and the kernel removes it if collectd dies (kernel 5.12 or later).')));
		o.default = '1';

		o = s.option(form.Flag, 'ConntrackStats', _('Conntrack statistics'),
			_('Also report the conntrack table\'s entries, maximum and fill, drops and other kernel statistics, and the number of flowtables.'));
		o.default = '1';
		o.depends('enable', '1');

		o = managed(s.option(form.Flag, 'CountOffloaded', _('Count offloaded packets'),
			_('With flow offloading on, also count the forward packets of offloaded connections (graphed as "offloaded" in the forward graphs), at a cost to every packet on the offloaded devices.')));
		o.default = '0';

		o = s.option(form.Flag, 'PerCPU', _('Per CPU'), _('Also report each conntrack statistic per CPU.'));
		o.default = '0';
		o.depends({ enable: '1', ConntrackStats: '1' });

		o = s.option(form.Flag, 'Notifications', _('Notifications'),
			_('Send a collectd notification when the router drops or evicts connections, its conntrack table fills past the threshold, the counting table is repaired, or flow offloading hides forward traffic. Enable the Syslog plugin to see them in the System Log.'));
		o.default = '1';
		o.depends('enable', '1');

		o = s.option(form.Value, 'FillThreshold', _('Table fill warning (%)'),
			_('A WARNING when the conntrack table is this full; OKAY again 5 points below.'));
		o.datatype = 'range(1,100)';
		o.default = '90';
		o.placeholder = '90';
		o.depends({ enable: '1', Notifications: '1', ConntrackStats: '1' });

		o = s.option(form.Value, 'SampleInterval', _('Sample interval'),
			_('Seconds, 0.05 to 3600 (e.g. 1 or 0.25). Read the counters this often and also report, per interval, the highest and the lowest per-second rate seen. Empty: off.'));
		o.validate = validSeconds;
		o.placeholder = _('off');
		o.optional = true;
		o.depends('enable', '1');

		o = s.option(form.DynamicList, 'SampleCounters', _('Sampled counters'),
			_('Counter names or patterns such as *_fwd_*. Empty: every counter.'));
		o.optional = true;
		o.validate = function(section_id, value) {
			if (value == '' || /^[^\s"]{1,255}$/.test(value))
				return true;
			return _('A counter name or pattern without spaces or quotes, at most 255 characters');
		};
		o.depends('enable', '1');
	},

	configSummary: function(section) {
		var table = section.Table || 'conntrack_stats',
		    family = section.Family || 'ip';

		if (section.Manage == '0')
			return _('Reading table %s %s').format(family, table);

		var protocols = L.toArray(section.Protocols),
		    hooks = L.toArray(section.Hooks);

		return _('Counting %s at %s in table %s %s').format(
			(protocols.length ? protocols : [ 'tcp', 'udp' ]).join(', '),
			(hooks.length ? hooks : [ 'input', 'output', 'forward' ]).join(', '),
			family, table);
	}
});
