// The lab's stand-in for procd's ubus object "system" (procd, OpenWrt's init, does not run in
// the lab): the theme's header calls system.board, LuCI's status pages system.info. Values come
// from the running kernel; the board is named after the lab. An rpcd ucode plugin, installed
// in the lab root as /usr/share/rpcd/ucode/lab-system.
'use strict';

import { readfile } from 'fs';

function trimmed(path) {
	return trim(readfile(path) ?? '');
}

return {
	system: {
		board: {
			call: function() {
				const kernel = split(trimmed('/proc/sys/kernel/osrelease'), ' ')[0];
				return {
					kernel: kernel,
					hostname: trimmed('/proc/sys/kernel/hostname'),
					system: 'conntrack-nft OpenWrt lab',
					model: 'conntrack-nft lab (namespaces, no procd)',
					board_name: 'conntrack-nft-lab',
					rootfs_type: 'overlay',
					release: { distribution: 'OpenWrt', version: 'lab', revision: 'lab', target: 'x86/64', description: 'conntrack-nft OpenWrt lab' }
				};
			}
		},
		info: {
			call: function() {
				const up = +split(trimmed('/proc/uptime'), ' ')[0];
				const load = map(slice(split(trimmed('/proc/loadavg'), ' '), 0, 3), v => int(+v * 65536));
				const mem = {};
				for (let line in split(trimmed('/proc/meminfo'), '\n')) {
					const m = match(line, /^(\w+):\s+(\d+)/);
					if (m)
						mem[m[1]] = +m[2] * 1024;
				}
				return {
					localtime: time(),
					uptime: int(up),
					load: load,
					memory: { total: mem.MemTotal, free: mem.MemFree, shared: mem.Shmem, buffered: mem.Buffers, available: mem.MemAvailable, cached: mem.Cached },
					swap: { total: mem.SwapTotal, free: mem.SwapFree }
				};
			}
		}
	}
};
