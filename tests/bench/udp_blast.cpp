// udp_blast: sends N small UDP datagrams (one flow) as fast as one thread can, with sendmmsg, and
// prints "sent wall_ns cpu_ns". On veth the router's forwarding runs in the sender's softirq, on
// the sender's CPU, so wall time per packet tracks the per-packet cost of the forward path.
//
//   udp_blast DST_IP PORT COUNT [PAYLOAD_BYTES]
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

static double now_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: udp_blast DST_IP PORT COUNT [PAYLOAD_BYTES]\n");
        return 2;
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) return 2;
    const long count = std::atol(argv[3]);
    const std::size_t payload = argc > 4 ? static_cast<std::size_t>(std::atol(argv[4])) : 18;  // 64-byte frames

    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
        std::perror("udp_blast: socket");
        return 1;
    }
    constexpr int kBatch = 64;
    std::vector<char> data(payload, 'x');
    iovec iov[kBatch];
    mmsghdr msgs[kBatch];
    std::memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < kBatch; ++i) {
        iov[i] = {data.data(), data.size()};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    long sent = 0;
    const double w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    while (sent < count) {
        const int n = sendmmsg(fd, msgs, static_cast<unsigned>(std::min<long>(kBatch, count - sent)), 0);
        if (n < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED) continue;
            std::perror("udp_blast: sendmmsg");
            return 1;
        }
        sent += n;
    }
    const double wall = now_ns(CLOCK_MONOTONIC) - w0, cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
    std::printf("%ld %.0f %.0f\n", sent, wall, cpu);
    close(fd);
    return 0;
}
