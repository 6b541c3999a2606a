#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "../base/simd_param.hh"
#include "linux_ref.hh"
#include "tcp/isn.hh"

namespace fg::tcp {
namespace {

const siphash_key seq_key{{0x1111222233334444ull, 0x5555666677778888ull}};
const siphash_key ts_key{{0x99990000aaaabbbbull, 0xccccddddeeeeffffull}};

const tuple4 conn = make_tuple4(ipv4(198, 18, 0, 1), 40000, ipv4(198, 18, 1, 2), 80);

TEST(IsnLinux, MatchesKernelTranscriptionBothSides)
{
    linux_ref::net_secret.key[0] = seq_key.k[0];
    linux_ref::net_secret.key[1] = seq_key.k[1];
    linux_ref::ts_secret.key[0] = ts_key.k[0];
    linux_ref::ts_secret.key[1] = ts_key.k[1];
    const isn_generator g(seq_key, ts_key);
    std::mt19937_64 rng(1);
    for (int i = 0; i < 2000; i++) {
        const tuple4 t{uint32_t(rng()), uint32_t(rng()), uint16_t(rng()), uint16_t(rng())};
        const uint64_t now = rng();
        linux_ref::real_ns = now;
        // connect(): secure_tcp_seq(inet_saddr, inet_daddr, inet_sport, sin_port)
        ASSERT_EQ(g.isn(t, now), linux_ref::secure_tcp_seq(t.laddr, t.raddr, t.lport, t.rport));
        // listener: tcp_v4_init_seq(skb) = secure_tcp_seq(iph->daddr, iph->saddr, th->dest, th->source)
        // for a SYN with saddr = t.raddr, source = t.rport.
        linux_ref::iphdr ip{t.raddr, t.laddr};
        linux_ref::tcphdr th{t.rport, t.lport, 0, 0};
        ASSERT_EQ(g.isn(t, now), linux_ref::secure_tcp_seq(ip.daddr, ip.saddr, th.dest, th.source));
        ASSERT_EQ(g.ts_offset(t), linux_ref::secure_tcp_ts_off(t.laddr, t.raddr));
        ASSERT_EQ(g.ts_offset(t), linux_ref::secure_tcp_ts_off(ip.daddr, ip.saddr));
    }
}

TEST(Isn, SameInputsSameIsn)
{
    const isn_generator a(seq_key, ts_key);
    const isn_generator b(seq_key, ts_key);
    EXPECT_EQ(a.isn(conn, 123456789), b.isn(conn, 123456789));
    EXPECT_EQ(a.ts_offset(conn), b.ts_offset(conn));
}

TEST(Isn, DiffersPerTupleField)
{
    const isn_generator g(seq_key, ts_key);
    const uint64_t now = 1ull << 40;
    tuple4 v[5] = {conn, conn, conn, conn, conn};
    v[0].laddr ^= rte_cpu_to_be_32(1);
    v[1].raddr ^= rte_cpu_to_be_32(1);
    v[2].lport ^= rte_cpu_to_be_16(1);
    v[3].rport ^= rte_cpu_to_be_16(1);
    std::swap(v[4].lport, v[4].rport);
    for (const tuple4& t : v) {
        EXPECT_NE(g.isn(t, now), g.isn(conn, now));
    }
}

TEST(Isn, AdvancesOneTickPer64Ns)
{
    const isn_generator g(seq_key, ts_key);
    const uint64_t now = 64ull * 1000000;
    const uint32_t base = g.isn(conn, now);
    EXPECT_EQ(g.isn(conn, now + 63), base);
    EXPECT_EQ(g.isn(conn, now + 64), base + 1);
    EXPECT_EQ(g.isn(conn, now + 64 * 1000), base + 1000);
    // One second moves the ISN by 10^9 / 64 = 15625000.
    EXPECT_EQ(g.isn(conn, now + 1000000000ull), base + 15625000u);
    // The clock term wraps 2^32 ticks (about 274.9 s) later.
    EXPECT_EQ(g.isn(conn, now + (64ull << 32)), base);
}

TEST(Isn, DependsOnSecret)
{
    const isn_generator g(seq_key, ts_key);
    const isn_generator other(siphash_key{{seq_key.k[0] + 1, seq_key.k[1]}}, ts_key);
    EXPECT_NE(g.isn(conn, 0), other.isn(conn, 0));
    EXPECT_EQ(g.ts_offset(conn), other.ts_offset(conn)); // the timestamp secret is separate
    const isn_generator other_ts(seq_key, siphash_key{{ts_key.k[0], ts_key.k[1] + 1}});
    EXPECT_NE(g.ts_offset(conn), other_ts.ts_offset(conn));
    EXPECT_EQ(g.isn(conn, 0), other_ts.isn(conn, 0));
}

TEST(Isn, RandomGeneratorsDiffer)
{
    const isn_generator a = isn_generator::random();
    const isn_generator b = isn_generator::random();
    EXPECT_NE(a.isn(conn, 0), b.isn(conn, 0));
}

TEST(Isn, DefaultClockIsMonotonicNs)
{
    const isn_generator g(seq_key, ts_key);
    const uint64_t before = mono_ns();
    const uint32_t x = g.isn(conn);
    const uint64_t after = mono_ns();
    const uint32_t lo = g.isn(conn, before);
    EXPECT_LE(x - lo, uint32_t((after - before) >> 6) + 1);
}

TEST(TsOffset, PerAddressPair)
{
    const isn_generator g(seq_key, ts_key);
    tuple4 other_ports = conn;
    other_ports.lport = rte_cpu_to_be_16(1);
    other_ports.rport = rte_cpu_to_be_16(2);
    EXPECT_EQ(g.ts_offset(other_ports), g.ts_offset(conn));
    tuple4 other_peer = conn;
    other_peer.raddr ^= rte_cpu_to_be_32(1);
    EXPECT_NE(g.ts_offset(other_peer), g.ts_offset(conn));
    tuple4 other_local = conn;
    other_local.laddr ^= rte_cpu_to_be_32(1);
    EXPECT_NE(g.ts_offset(other_local), g.ts_offset(conn));
    tuple4 reversed = conn;
    std::swap(reversed.laddr, reversed.raddr);
    EXPECT_NE(g.ts_offset(reversed), g.ts_offset(conn)); // ordered: (local, remote)
}

TEST(TsNow, MillisecondsTruncatedTo32Bits)
{
    EXPECT_EQ(tcp_ts_now(0), 0u);
    EXPECT_EQ(tcp_ts_now(999999), 0u);
    EXPECT_EQ(tcp_ts_now(1000000), 1u);
    EXPECT_EQ(tcp_ts_now(5000000000ull), 5000u);
    EXPECT_EQ(tcp_ts_now((1ull << 32) * 1000000 + 7000000), 7u);
}

} // namespace
} // namespace fg::tcp

namespace fg::tcp {
namespace {

// ---- bursts: every SIMD variant this CPU has, forced in turn ----------------------

class IsnBurst : public test::simd_test {};

// Large random input in rx bursts of every size 1..32 and in one call: each
// ISN and offset equal to the Linux transcription (secure_tcp_seq,
// secure_tcp_ts_off) and to the one-at-a-time calls.
TEST_P(IsnBurst, MatchesKernelTranscription)
{
    linux_ref::net_secret.key[0] = seq_key.k[0];
    linux_ref::net_secret.key[1] = seq_key.k[1];
    linux_ref::ts_secret.key[0] = ts_key.k[0];
    linux_ref::ts_secret.key[1] = ts_key.k[1];
    const isn_generator g(seq_key, ts_key);
    std::mt19937_64 rng(60 + uint64_t(level()));
    const std::size_t n = 20000;
    std::vector<tuple4> t(n);
    for (auto& x : t) {
        x = tuple4{uint32_t(rng()), uint32_t(rng()), uint16_t(rng()), uint16_t(rng())};
    }
    for (int round = 0; round < 3; round++) {
        const uint64_t now = rng();
        linux_ref::real_ns = now;
        std::vector<uint32_t> isn(n), off(n), isn_all(n), off_all(n);
        for (std::size_t base = 0, burst = 1; base < n; base += burst, burst = burst % 32 + 1) {
            const std::size_t m = std::min(burst, n - base);
            g.isn_burst(m, &t[base], now, &isn[base]);
            g.ts_offset_burst(m, &t[base], &off[base]);
        }
        g.isn_burst(n, t.data(), now, isn_all.data());
        g.ts_offset_burst(n, t.data(), off_all.data());
        for (std::size_t i = 0; i < n; i++) {
            const tuple4& x = t[i];
            const uint32_t want_isn = linux_ref::secure_tcp_seq(x.laddr, x.raddr, x.lport, x.rport);
            const uint32_t want_off = linux_ref::secure_tcp_ts_off(x.laddr, x.raddr);
            ASSERT_EQ(isn[i], want_isn) << i;
            ASSERT_EQ(isn_all[i], want_isn) << i;
            ASSERT_EQ(g.isn(x, now), want_isn) << i;
            ASSERT_EQ(off[i], want_off) << i;
            ASSERT_EQ(off_all[i], want_off) << i;
            ASSERT_EQ(g.ts_offset(x), want_off) << i;
        }
    }
}

TEST_P(IsnBurst, WritesNothingPastN)
{
    const isn_generator g(seq_key, ts_key);
    std::mt19937_64 rng(13);
    std::vector<tuple4> t(70);
    for (auto& x : t) {
        x = tuple4{uint32_t(rng()), uint32_t(rng()), uint16_t(rng()), uint16_t(rng())};
    }
    const uint64_t now = rng();
    for (std::size_t n = 0; n <= 70; n++) {
        std::vector<uint32_t> isn(n + 1, 0xDEADBEEF);
        std::vector<uint32_t> off(n + 1, 0xDEADBEEF);
        g.isn_burst(n, t.data(), now, isn.data());
        g.ts_offset_burst(n, t.data(), off.data());
        for (std::size_t i = 0; i < n; i++) {
            ASSERT_EQ(isn[i], g.isn(t[i], now)) << n << " " << i;
            ASSERT_EQ(off[i], g.ts_offset(t[i])) << n << " " << i;
        }
        EXPECT_EQ(isn[n], 0xDEADBEEFu);
        EXPECT_EQ(off[n], 0xDEADBEEFu);
    }
}

FG_INSTANTIATE_SIMD(IsnBurst);

} // namespace
} // namespace fg::tcp
