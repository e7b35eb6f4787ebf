#!/usr/bin/env python3
"""Traffic with exactly known conntrack effects, for the kernel and daemon tests and the demo.

  traffic.py tcp-server PORT                 accept connections until killed (IPv4 and IPv6)
  traffic.py tcp-connect HOST PORT K         K complete TCP connections, one after another
  traffic.py udp-send HOST PORTBASE M        M datagrams, each to its own port: M new flows
  traffic.py udp-flows HOST N                N new flows as fast as possible (distinct source and
                                             destination ports): fills a conntrack table
  traffic.py syn-fin SRC DST PORT            one TCP segment with SYN and FIN set (conntrack: invalid)
  traffic.py udp-burst HOST PORTBASE M SECONDS    M new flows (one datagram each) spread evenly over SECONDS
  traffic.py tcp-stream HOST PORT SECONDS [RATE]   one connection sending RATE small writes a second;
                                                   SIGUSR1 makes it stall (send nothing) for 3 s
  traffic.py udp-flood HOST PORT SECONDS [RATE]    datagrams to one port at RATE a second
"""
import signal
import socket
import struct
import sys
import threading
import time


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def tcp_server(port):
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    srv.bind(("::", port))
    srv.listen(128)

    def serve(conn):
        with conn:
            try:
                while conn.recv(65536):
                    pass
            except OSError:
                pass

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def tcp_connect(host, port, count):
    for _ in range(count):
        with socket.socket(family_of(host), socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect((host, port))
            s.sendall(b"x")
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
    print(f"tcp-connect: {count} connections")


def udp_send(host, portbase, count):
    with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
        for i in range(count):
            s.sendto(b"x", (host, portbase + i))
    print(f"udp-send: {count} datagrams")


def udp_burst(host, portbase, count, seconds):
    start = time.monotonic()
    with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
        for i in range(count):
            # Paced against the clock, so the flows really spread over the whole burst.
            delay = start + seconds * i / count - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            s.sendto(b"x", (host, portbase + i))
    print(f"udp-burst: {count} datagrams in {time.monotonic() - start:.2f} s")


def udp_flows(host, count):
    sent, sockets = 0, []
    try:
        while sent < count:
            s = socket.socket(family_of(host), socket.SOCK_DGRAM)
            sockets.append(s)  # kept open: each socket is a source port of its own
            for port in range(1024, 65536):
                if sent == count:
                    break
                try:
                    s.sendto(b"x", (host, port))
                except OSError:
                    pass  # dropped locally (e.g. ENOBUFS): the flow may still be new later
                sent += 1
    finally:
        for s in sockets:
            s.close()
    print(f"udp-flows: {sent} datagrams")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn_fin(src, dst, port):
    # The kernel writes the IP header; the TCP header and its checksum are ours.
    sport, seq, flags = 40000, 1, 0x01 | 0x02  # FIN | SYN
    header = struct.pack("!HHIIBBHHH", sport, port, seq, 0, 5 << 4, flags, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(header))
    header = header[:16] + struct.pack("!H", checksum(pseudo + header)) + header[18:]
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP) as s:
        s.bind((src, 0))
        s.sendto(header, (dst, 0))
    print("syn-fin: 1 segment")


def tcp_stream(host, port, seconds, rate):
    end = time.monotonic() + seconds
    stall = []
    signal.signal(signal.SIGUSR1, lambda *_: stall.append(time.monotonic() + 3))
    with socket.socket(family_of(host), socket.SOCK_STREAM) as s:
        s.connect((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while time.monotonic() < end:
            if stall:
                time.sleep(max(0, stall.pop() - time.monotonic()))
            s.sendall(b"x" * 64)
            time.sleep(1.0 / rate)


def udp_flood(host, port, seconds, rate):
    end = time.monotonic() + seconds
    with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
        while time.monotonic() < end:
            s.sendto(b"x", (host, port))
            time.sleep(1.0 / rate)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "tcp-server":
        tcp_server(int(args[0]))
    elif cmd == "tcp-connect":
        tcp_connect(args[0], int(args[1]), int(args[2]))
    elif cmd == "udp-send":
        udp_send(args[0], int(args[1]), int(args[2]))
    elif cmd == "udp-burst":
        udp_burst(args[0], int(args[1]), int(args[2]), float(args[3]))
    elif cmd == "udp-flows":
        udp_flows(args[0], int(args[1]))
    elif cmd == "syn-fin":
        syn_fin(args[0], args[1], int(args[2]))
    elif cmd == "tcp-stream":
        tcp_stream(args[0], int(args[1]), float(args[2]), float(args[3]) if len(args) > 3 else 20)
    elif cmd == "udp-flood":
        udp_flood(args[0], int(args[1]), float(args[2]), float(args[3]) if len(args) > 3 else 20)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
