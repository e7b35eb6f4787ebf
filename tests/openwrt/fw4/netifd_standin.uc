// A stand-in for netifd (a debt, docs/testing.md): netifd does not run here, and fw4 learns its
// zones' devices and addresses from `ubus call network.interface dump`. This answers that call,
// and network.interface.<name> status (OpenWrt's firewall hotplug script asks it), from
// INTERFACES_JSON, which the test writes from the router namespace's real devices
// (`ip -j addr`); read again at every call, as netifd answers with the state of the moment.
//   ucode netifd_standin.uc INTERFACES_JSON
import { readfile } from 'fs';
import * as ubus from 'ubus';
import * as uloop from 'uloop';

const file = ARGV[0];
const dump = () => json(readfile(file));
const status = (name) => filter(dump().interface, (i) => i.interface == name)[0];

uloop.init();
const bus = ubus.connect();
if (!bus)
	die(`netifd stand-in: cannot connect to ubus: ${ubus.error()}\n`);

let objects = [ bus.publish("network.interface", { dump: { call: () => dump() } }) ];
for (let ifc in dump().interface) {
	let name = ifc.interface;
	push(objects, bus.publish(`network.interface.${name}`, { status: { call: () => status(name) } }));
}
if (!length(filter(objects, (o) => o)))
	die(`netifd stand-in: cannot publish: ${ubus.error()}\n`);
uloop.run();
