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
  traffic.py udp-echo PORT                   answer every datagram on PORT with itself, until killed
  traffic.py udp-call HOST PORT FLOWS RATE TALK QUIET TALK
                                             FLOWS two-way flows (a call: each its own source port,
                                             answered by udp-echo), RATE datagrams a second each: talk,
                                             fall quiet, talk again; prints the epoch of each phase
  traffic.py tcp-out-of-window HOST PORT K   one TCP connection, then K segments of it far outside the
                                             receiver's window, from a raw socket (conntrack: invalid)
  traffic.py udp-twins HOST PORTBASE TRIES [RATE]   per try, one new UDP flow whose first two
                                             datagrams leave from two threads on two CPUs at once (an
                                             insert race); RATE tries a second (default: at once)
  traffic.py delay-line IN OUT MS            copy every packet from tun device IN to tun device OUT,
                                             MS milliseconds later (a slow line; this kernel has no netem)
  traffic.py repeat SECONDS CMD ARGS... [+ CMD ARGS...]...
                                             run the commands one after another every SECONDS, until
                                             killed, in this one process (a failed round is reported
                                             on stderr and the next one runs)
"""
import heapq
import os
import select
import fcntl
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


def tcp_segment(src, dst, sport, dport, seq, ack, flags, payload=b""):
    # The kernel writes the IP header; the TCP header and its checksum are ours.
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, socket.IPPROTO_TCP,
                                                                          len(header) + len(payload))
    return header[:16] + struct.pack("!H", checksum(pseudo + header + payload)) + header[18:] + payload


def send_raw(src, dst, segments):
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP) as s:
        s.bind((src, 0))
        for seg in segments:
            s.sendto(seg, (dst, 0))


def syn_fin(src, dst, port):
    send_raw(src, dst, [tcp_segment(src, dst, 40000, port, 1, 0, 0x01 | 0x02)])  # FIN | SYN
    print("syn-fin: 1 segment")


def tcp_out_of_window(host, port, count):
    TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ, TCP_SEND_QUEUE = 19, 20, 21, 2
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect((host, port))
        s.sendall(b"x")
        # Until the byte is acknowledged (tcp_info's tcpi_unacked, at offset 24): nothing in flight.
        deadline = time.monotonic() + 5
        while struct.unpack_from("I", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104), 24)[0]:
            if time.monotonic() > deadline:
                raise TimeoutError("tcp-out-of-window: the first byte was never acknowledged")
            time.sleep(0.01)
        # The next sequence number to send, from the socket itself (repair mode needs CAP_NET_ADMIN).
        s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
        s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE)
        snd_nxt = struct.unpack("I", s.getsockopt(socket.IPPROTO_TCP, TCP_QUEUE_SEQ, 4))[0]
        s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 0)
        src, sport = s.getsockname()
        # 2^30 beyond what was sent: past any receive window (at most 2^30), so never accepted.
        far = (snd_nxt + (1 << 30)) & 0xFFFFFFFF
        send_raw(src, host, [tcp_segment(src, host, sport, port, (far + i) & 0xFFFFFFFF, 0, 0x10 | 0x08, b"y")
                             for i in range(count)])  # ACK | PSH, ack 0: the ACK field is not checked
        s.sendall(b"x")
    print(f"tcp-out-of-window: {count} segments")


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


def udp_echo(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", port))
        while True:
            data, peer = s.recvfrom(2048)
            s.sendto(data, peer)


def udp_call(host, port, flows, rate, talk1, quiet, talk2):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(flows)]
    for s in socks:
        s.setblocking(False)

    def talk(seconds):
        start = time.monotonic()
        n = 0
        while True:
            due = start + n / rate
            if due >= start + seconds:
                return
            time.sleep(max(0, due - time.monotonic()))
            for s in socks:
                s.sendto(b"c", (host, port))
                try:
                    while s.recv(64):
                        pass
                except BlockingIOError:
                    pass
            n += 1

    print(f"talk {time.time():.3f}", flush=True)
    talk(talk1)
    print(f"quiet {time.time():.3f}", flush=True)
    time.sleep(quiet)
    print(f"resume {time.time():.3f}", flush=True)
    talk(talk2)
    print(f"end {time.time():.3f}", flush=True)


def udp_twins(host, portbase, tries, rate=0.0):
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        print("udp-twins: needs two CPUs", file=sys.stderr)
        return 1
    # Three parties: the main thread hands each try a fresh socket and port, then both twins send
    # the flow's first datagram at once, each pinned to a CPU of its own.
    go, done = threading.Barrier(3), threading.Barrier(3)
    state = {}

    def twin(cpu):
        os.sched_setaffinity(0, {cpu})  # this thread only
        for _ in range(tries):
            go.wait()
            state["sock"].sendto(b"t", (host, state["port"]))
            done.wait()

    threads = [threading.Thread(target=twin, args=(c,)) for c in cpus[:2]]
    for t in threads:
        t.start()
    start = time.monotonic()
    for i in range(tries):
        if rate > 0:
            time.sleep(max(0, start + i / rate - time.monotonic()))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            state["sock"], state["port"] = s, portbase + i
            go.wait()
            done.wait()
    for t in threads:
        t.join()
    print(f"udp-twins: {tries} tries, {2 * tries} datagrams")
    return 0


def delay_line(tun_in, tun_out, ms):
    def open_tun(name):
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", name.encode(), 0x0001 | 0x1000))  # TUNSETIFF: TUN, NO_PI
        return fd

    fd_in, fd_out = open_tun(tun_in), open_tun(tun_out)
    print("delay-line: ready", flush=True)
    queue, seq = [], 0
    while True:
        timeout = max(0, queue[0][0] - time.monotonic()) if queue else None
        if select.select([fd_in], [], [], timeout)[0]:
            heapq.heappush(queue, (time.monotonic() + ms / 1000, seq, os.read(fd_in, 65536)))
            seq += 1
        while queue and queue[0][0] <= time.monotonic():
            os.write(fd_out, heapq.heappop(queue)[2])


def repeat(seconds, args):
    commands, cur = [], []
    for a in args + ["+"]:
        if a == "+":
            if cur:
                commands.append(cur)
            cur = []
        else:
            cur.append(a)
    start, n = time.monotonic(), 0
    while True:
        for cmd in commands:
            try:
                main([sys.argv[0]] + cmd)
            except Exception as e:  # noqa: BLE001 - one failed round (a timeout) does not end the loop
                print(f"repeat: {' '.join(cmd)}: {e}", file=sys.stderr, flush=True)
        n += 1
        if start + n * seconds < time.monotonic() - seconds:  # far behind (a busy machine): no burst to catch up
            start, n = time.monotonic(), 0
        time.sleep(max(0.0, start + n * seconds - time.monotonic()))


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
    elif cmd == "udp-echo":
        udp_echo(int(args[0]))
    elif cmd == "udp-call":
        udp_call(args[0], int(args[1]), int(args[2]), float(args[3]), float(args[4]), float(args[5]), float(args[6]))
    elif cmd == "tcp-out-of-window":
        tcp_out_of_window(args[0], int(args[1]), int(args[2]))
    elif cmd == "udp-twins":
        return udp_twins(args[0], int(args[1]), int(args[2]), float(args[3]) if len(args) > 3 else 0.0)
    elif cmd == "delay-line":
        delay_line(args[0], args[1], float(args[2]))
    elif cmd == "repeat":
        repeat(float(args[0]), args[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
