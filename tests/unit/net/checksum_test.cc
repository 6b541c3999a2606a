// lib/net/checksum.hh's 64-bit-accumulator sums are DPDK's 16-bit sums for
// every length (0-1600) and alignment, for raw data, IPv4 headers (with and
// without options) and TCP segments with their pseudo-header -- including the
// all-ones and zero corner cases.
#include "net/checksum.hh"

#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <rte_ip.h>

namespace fg::net {
namespace {

TEST(checksum, RawSumEqualsDpdkForEveryLengthAndAlignment)
{
    std::mt19937_64 rng(7);
    std::vector<uint8_t> buf(1700);
    for (int round = 0; round < 4; round++) {
        for (auto& b : buf) {
            b = uint8_t(round == 1 ? 0xff : round == 2 ? 0x00 : rng());
        }
        for (uint32_t off = 0; off < 8; off++) {
            for (uint32_t len = 0; len <= 1600; len++) {
                ASSERT_EQ(raw_cksum(buf.data() + off, len), rte_raw_cksum(buf.data() + off, len))
                    << "round " << round << " off " << off << " len " << len;
            }
        }
    }
}

TEST(checksum, PartialSumsChain)
{
    std::mt19937_64 rng(11);
    std::vector<uint8_t> buf(512);
    for (auto& b : buf) {
        b = uint8_t(rng());
    }
    // Sums of even-length pieces add up to the sum of the whole.
    for (uint32_t cut = 0; cut <= 512; cut += 2) {
        ASSERT_EQ(cksum_fold(cksum_add(buf.data() + cut, 512 - cut, cksum_add(buf.data(), cut))),
                  rte_raw_cksum(buf.data(), 512));
    }
}

struct frame {
    alignas(8) uint8_t b[1600];
    rte_ipv4_hdr* ip() { return reinterpret_cast<rte_ipv4_hdr*>(b + 2); } // misaligned on purpose, as after Ethernet
};

TEST(checksum, Ipv4AndTcpEqualDpdk)
{
    std::mt19937_64 rng(13);
    frame f;
    for (int i = 0; i < 20000; i++) {
        for (auto& x : f.b) {
            x = uint8_t(rng());
        }
        const uint32_t ihl = 5 + uint32_t(rng() % 11); // 20..60 bytes of IP header
        const uint32_t l4 = 20 + uint32_t(rng() % 1400);
        rte_ipv4_hdr* ip = f.ip();
        ip->version_ihl = uint8_t(0x40 | ihl);
        ip->total_length = rte_cpu_to_be_16(uint16_t(ihl * 4 + l4));
        ip->next_proto_id = IPPROTO_TCP;
        auto* tcp = reinterpret_cast<rte_tcp_hdr*>(reinterpret_cast<uint8_t*>(ip) + ihl * 4);

        set_ipv4_cksum(ip);
        const uint16_t mine_ip = ip->hdr_checksum;
        ip->hdr_checksum = 0;
        ASSERT_EQ(mine_ip, rte_ipv4_cksum(ip)) << i;
        ip->hdr_checksum = mine_ip;
        ASSERT_TRUE(ipv4_cksum_ok(ip));

        set_tcp_cksum(ip, tcp);
        const uint16_t mine_tcp = tcp->cksum;
        tcp->cksum = 0;
        ASSERT_EQ(mine_tcp, rte_ipv4_udptcp_cksum(ip, tcp)) << i;
        tcp->cksum = mine_tcp;
        ASSERT_TRUE(l4_cksum_ok(ip, tcp));
        ASSERT_EQ(rte_ipv4_udptcp_cksum_verify(ip, tcp), 0);

        set_tcp_phdr_cksum(ip, tcp);
        ASSERT_EQ(tcp->cksum, rte_ipv4_phdr_cksum(ip, 0)) << i;

        // One flipped bit anywhere is caught by both checks.
        const uint32_t at = uint32_t(rng() % (ihl * 4 + l4));
        set_tcp_cksum(ip, tcp);
        reinterpret_cast<uint8_t*>(ip)[at] ^= uint8_t(1u << (rng() % 8));
        if (at < ihl * 4 && at != 0 && !(at >= 2 && at < 4)) {
            ASSERT_EQ(ipv4_cksum_ok(ip), rte_raw_cksum(ip, ihl * 4) == 0xffff);
            ASSERT_FALSE(ipv4_cksum_ok(ip)) << i;
        } else if (at >= ihl * 4) {
            ASSERT_FALSE(l4_cksum_ok(ip, tcp)) << i;
        }
    }
}

} // namespace
} // namespace fg::net
