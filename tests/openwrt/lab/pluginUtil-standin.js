'use strict';
'require baseclass';
'require form';
'require uci';

/*
 * TEST STAND-IN, not LuCI's code: statistics/pluginUtil.js as LuCI master after mid-2026 offers
 * it to plugin views (addCommonOptions(section, omitInterval): the 'enable' flag and a
 * per-plugin Interval), written here to that interface because no LuCI tree with it is in
 * ../shared/openwrt-src. setup_pluginutil (tests/openwrt/lab/setup.sh) installs it over the
 * master-2026-06 tree and makes LuCI's own cpu view use it, to show that our view, which needs no
 * pluginUtil, works beside views that do.
 */
return baseclass.extend({
	addCommonOptions: function(section, omitInterval) {
		section.option(form.Flag, 'enable', _('Enable this plugin'));

		if (!omitInterval) {
			var o = section.option(form.Value, 'Interval', _('Interval'), _('Seconds'));
			o.placeholder = uci.get('luci_statistics', 'collectd', 'Interval');
			o.datatype = 'uinteger';
			o.optional = true;
			o.depends('enable', '1');
		}

		return section;
	}
});
