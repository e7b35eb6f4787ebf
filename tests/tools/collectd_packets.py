#!/usr/bin/env python3
"""What Telegraf would receive from collectd's network plugin, and what it would name it.

  collectd_packets.py listen PORT FILE         receive datagrams on 127.0.0.1:PORT, one hex line each
  collectd_packets.py decode FILE [AUTHFILE]   value lists as JSON lines; signed parts are verified
                                               with AUTHFILE's "user: password" lines
  collectd_packets.py telegraf MODE TYPESDB... value lists (stdin) -> Telegraf metrics as JSON lines
  collectd_packets.py lines                    Telegraf metrics (stdin) -> InfluxDB line protocol

The decoder follows collectd's binary protocol (src/network.c: part type, length, payload;
values: count, one type byte each, then 8 bytes each: counter/derive/absolute big-endian
integers, gauge a little-endian double; a signature part holds HMAC-SHA256(password, user name +
the rest of the packet), the hash, then the user name). Encrypted packets are not decoded. The naming follows Telegraf's collectd parser
(influxdata/telegraf plugins/parsers/collectd/parser.go, unmarshalValueList) and the collectd.org
library it uses (v0.6.0: network.Parse drops a value list whose type is in no TypesDB file, and
ValueList.DSName names the data sources).
"""
import hashlib
import hmac
import json
import socket
import struct
import sys

STRINGS = {0x0000: "host", 0x0002: "plugin", 0x0003: "plugin_instance", 0x0004: "type", 0x0005: "type_instance"}
VALUE_TYPES = {0: "COUNTER", 1: "GAUGE", 2: "DERIVE", 3: "ABSOLUTE"}


def listen(port, path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, open(path, "a") as out:
        s.bind(("127.0.0.1", port))
        while True:
            out.write(s.recv(65535).hex() + "\n")
            out.flush()


def decode(packet, passwords=None):
    state, pos = dict({k: "" for k in STRINGS.values()}, security="none"), 0
    while pos + 4 <= len(packet):
        kind, length = struct.unpack_from(">HH", packet, pos)
        if length < 4 or pos + length > len(packet):
            raise ValueError(f"part 0x{kind:04x} of length {length} at {pos} overruns the packet")
        body = packet[pos + 4:pos + length]
        if kind in STRINGS:
            state[STRINGS[kind]] = body.rstrip(b"\0").decode()
        elif kind in (0x0001, 0x0008):  # time, time (2^-30 s)
            state["time"] = struct.unpack(">Q", body)[0] / (1 if kind == 1 else 2**30)
        elif kind in (0x0007, 0x0009):  # interval, interval (2^-30 s)
            state["interval"] = struct.unpack(">Q", body)[0] / (1 if kind == 7 else 2**30)
        elif kind == 0x0200:  # signature: everything after this part is signed
            user = body[32:].decode()
            if passwords is None or user not in passwords:
                raise ValueError(f"signed by unknown user {user!r}")
            want = hmac.new(passwords[user].encode(), body[32:] + packet[pos + length:], hashlib.sha256).digest()
            if not hmac.compare_digest(want, body[:32]):
                raise ValueError(f"signature of user {user!r} does not verify")
            state["security"] = "sign"
        elif kind == 0x0210:
            raise ValueError("encrypted packets are not decoded")
        elif kind == 0x0006:
            n = struct.unpack_from(">H", body)[0]
            types = body[2:2 + n]
            values = []
            for i, t in enumerate(types):
                raw = body[2 + n + 8 * i:2 + n + 8 * (i + 1)]
                v = struct.unpack("<d" if t == 1 else (">q" if t == 2 else ">Q"), raw)[0]
                values.append([VALUE_TYPES[t], v])
            yield dict(state, values=values)
        pos += length


def load_typesdb(paths):
    db = {}
    for path in paths:
        for line in open(path):
            words = line.split()
            if not words or line.startswith("#"):
                continue
            db[words[0]] = [w.split(":")[0] for w in words[1:]]
    return db


def telegraf(vl, mode, db):
    names = db.get(vl["type"]) if db is not None else None
    if db is not None and names is None:
        return []  # network.Parse: "unable to find %q in TypesDB", the value list is dropped
    def ds_name(i):
        if names is not None:
            return names[i]
        return "value" if len(vl["values"]) == 1 else str(i)
    tags = {t: vl[k] for t, k in (("host", "host"), ("instance", "plugin_instance"),
                                  ("type", "type"), ("type_instance", "type_instance")) if vl[k]}
    if mode == "split":
        return [{"measurement": f"{vl['plugin']}_{ds_name(i)}", "tags": tags, "fields": {"value": float(v)},
                 "time": vl["time"]} for i, (_, v) in enumerate(vl["values"])]
    return [{"measurement": vl["plugin"], "tags": tags,
             "fields": {ds_name(i): float(v) for i, (_, v) in enumerate(vl["values"])}, "time": vl["time"]}]


def main():
    cmd = sys.argv[1]
    if cmd == "listen":
        listen(int(sys.argv[2]), sys.argv[3])
    elif cmd == "decode":
        passwords = None
        if len(sys.argv) > 3:  # collectd's and Telegraf's auth file: "user: password" lines
            passwords = {}
            for entry in open(sys.argv[3]):
                user, sep, password = entry.partition(":")
                if sep:
                    passwords[user.strip()] = password.strip()
        for line in open(sys.argv[2]):
            for vl in decode(bytes.fromhex(line.strip()), passwords):
                print(json.dumps(vl))
    elif cmd == "telegraf":
        db = load_typesdb(sys.argv[3:]) if len(sys.argv) > 3 else None
        for line in sys.stdin:
            for m in telegraf(json.loads(line), sys.argv[2], db):
                print(json.dumps(m))
    elif cmd == "lines":
        for line in sys.stdin:
            m = json.loads(line)
            tags = "".join(f",{k}={v}" for k, v in sorted(m["tags"].items()))
            fields = ",".join(f"{k}={v!r}" for k, v in m["fields"].items())
            print(f"{m['measurement']}{tags} {fields} {int(m['time'] * 1e9)}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
