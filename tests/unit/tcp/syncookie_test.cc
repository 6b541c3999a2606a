#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "../base/simd_param.hh"
#include "linux_ref.hh"
#include "tcp/syncookie.hh"

namespace fg::tcp {
namespace {

const siphash_key key0{{0x0123456789abcdefull, 0xfedcba9876543210ull}};
const siphash_key key1{{0x0f1e2d3c4b5a6978ull, 0x8796a5b4c3d2e1f0ull}};

// Server 198.18.0.1:80, client 198.18.1.2:40000.
const tuple4 server_view = make_tuple4(ipv4(198, 18, 0, 1), 80, ipv4(198, 18, 1, 2), 40000);

syncookie cookies() { return syncookie(key0, key1); }

void set_linux_secrets(const siphash_key& k0, const siphash_key& k1)
{
    linux_ref::syncookie_secret[0].key[0] = k0.k[0];
    linux_ref::syncookie_secret[0].key[1] = k0.k[1];
    linux_ref::syncookie_secret[1].key[0] = k1.k[0];
    linux_ref::syncookie_secret[1].key[1] = k1.k[1];
}

// The SYN the client sent, as Linux's headers see it (network order).
struct syn_hdrs {
    linux_ref::iphdr ip;
    linux_ref::tcphdr tcp;
};
syn_hdrs syn_of(const tuple4& t, uint32_t client_isn)
{
    syn_hdrs h{};
    h.ip.saddr = t.raddr; // the client
    h.ip.daddr = t.laddr; // us
    h.tcp.source = t.rport;
    h.tcp.dest = t.lport;
    h.tcp.seq = linux_ref::htonl(client_isn);
    return h;
}

std::vector<tuple4> random_tuples(std::size_t n, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::vector<tuple4> v(n);
    for (auto& t : v) {
        t = tuple4{uint32_t(rng()), uint32_t(rng()), uint16_t(rng()), uint16_t(rng())};
    }
    return v;
}

// ---- known answers: the Linux code, transcribed, computes the same cookies ----

TEST(SyncookieLinux, MakeMatchesKernelTranscription)
{
    set_linux_secrets(key0, key1);
    const syncookie c = cookies();
    std::mt19937 rng(1);
    for (const tuple4& t : random_tuples(2000, 2)) {
        const uint32_t isn = uint32_t(rng());
        const uint16_t mss = uint16_t(rng() % 10000);
        const uint64_t jiffies = (uint64_t(rng()) << 12) ^ rng(); // up to ~2^44 ms: counts past 2^24
        linux_ref::jiffies_64 = jiffies;
        const syn_hdrs h = syn_of(t, isn);
        uint16_t linux_mss = mss;
        const uint32_t want = linux_ref::__cookie_v4_init_sequence(&h.ip, &h.tcp, &linux_mss);
        uint16_t our_mss = 0;
        const uint32_t got = c.make(t, isn, mss, syncookie::count_from_ms(jiffies), &our_mss);
        ASSERT_EQ(got, want);
        ASSERT_EQ(our_mss, linux_mss);
    }
}

TEST(SyncookieLinux, CheckMatchesKernelTranscription)
{
    set_linux_secrets(key0, key1);
    const syncookie c = cookies();
    std::mt19937 rng(3);
    for (const tuple4& t : random_tuples(500, 4)) {
        const uint32_t isn = uint32_t(rng());
        const uint32_t count0 = uint32_t(rng());
        const uint32_t cookie = c.make(t, isn, uint16_t(rng() % 2000), count0);
        // The ACK: seq = isn + 1; a good cookie, a stale one, one from the
        // future and a random one, at several later counters.
        const uint32_t candidates[] = {cookie, cookie + (1u << 24), cookie - (1u << 24), uint32_t(rng())};
        for (uint32_t cand : candidates) {
            for (uint32_t later = 0; later < 4; later++) {
                linux_ref::jiffies_64 = uint64_t(count0 + later) * syncookie::period_ms;
                syn_hdrs h = syn_of(t, isn + 1);
                const int want = linux_ref::__cookie_v4_check(&h.ip, &h.tcp, cand);
                uint16_t mss = 0;
                const bool ok = c.check(t, cand, isn, count0 + later, &mss);
                ASSERT_EQ(ok ? int(mss) : 0, want) << "later " << later;
            }
        }
    }
}

// Regression pin: fixed keys, tuple and time give this cookie (computed once
// with the transcription above; both must keep agreeing with it).
TEST(SyncookieLinux, PinnedValue)
{
    set_linux_secrets(key0, key1);
    linux_ref::jiffies_64 = uint64_t(1000) * 60000 + 1234;
    const syn_hdrs h = syn_of(server_view, 0x11223344);
    uint16_t mss = 1460;
    const uint32_t linux_cookie = linux_ref::__cookie_v4_init_sequence(&h.ip, &h.tcp, &mss);
    EXPECT_EQ(linux_cookie, 202265585u);
    EXPECT_EQ(cookies().make(server_view, 0x11223344, 1460, 1000), linux_cookie);
}

TEST(SyncookieLinux, TimestampMatchesKernelTranscription)
{
    std::mt19937 rng(5);
    for (int i = 0; i < 20000; i++) {
        const uint32_t ts_now = uint32_t(rng());
        linux_ref::inet_request_sock ireq{};
        ireq.wscale_ok = rng() & 1;
        ireq.snd_wscale = ireq.wscale_ok ? rng() % 15 : 0;
        ireq.sack_ok = rng() & 1;
        ireq.ecn_ok = rng() & 1;
        cookie_options o;
        o.wscale_ok = ireq.wscale_ok;
        o.snd_wscale = uint8_t(ireq.snd_wscale);
        o.sack_ok = ireq.sack_ok;
        o.ecn_ok = ireq.ecn_ok;
        ASSERT_EQ(syncookie::make_tsval(ts_now, o), uint32_t(linux_ref::cookie_init_timestamp(&ireq, ts_now)));
    }
}

// ---- round trips ---------------------------------------------------------------

// The stack draws its cookie secrets with syncookie::random(): two draws
// give different cookies for the same SYN in the same minute, and a cookie
// of one does not pass the other's check.
TEST(Syncookie, RandomSecretsDiffer)
{
    const syncookie a = syncookie::random();
    const syncookie b = syncookie::random();
    unsigned differ = 0;
    for (uint16_t p = 0; p < 4; p++) {
        const tuple4 t = make_tuple4(ipv4(198, 18, 0, 1), 80, ipv4(198, 18, 1, 2), uint16_t(40000 + p));
        const uint32_t ca = a.make(t, 12345, 1460, 1000);
        differ += ca != b.make(t, 12345, 1460, 1000) ? 1 : 0;
        EXPECT_FALSE(b.check(t, ca, 12345, 1000)) << "a cookie made under one secret passed the other's check";
    }
    EXPECT_EQ(differ, 4u);
}

TEST(Syncookie, RoundTripEveryMssIndex)
{
    const syncookie c = cookies();
    for (uint16_t mss : syncookie::msstab) {
        uint16_t encoded = 0;
        const uint32_t cookie = c.make(server_view, 777, mss, 50, &encoded);
        EXPECT_EQ(encoded, mss);
        uint16_t decoded = 0;
        ASSERT_TRUE(c.check(server_view, cookie, 777, 50, &decoded));
        EXPECT_EQ(decoded, mss);
    }
}

TEST(Syncookie, CheckAckUsesSeqMinusOneAndAckMinusOne)
{
    const syncookie c = cookies();
    const uint32_t isn = 0xFFFFFFFF; // seq = isn + 1 wraps to 0
    for (uint16_t mss : syncookie::msstab) {
        const uint32_t cookie = c.make(server_view, isn, mss, 9);
        uint16_t got = 0;
        EXPECT_TRUE(c.check_ack(server_view, isn + 1, cookie + 1, 9, &got));
        EXPECT_EQ(got, mss);
    }
    // Forgetting either "- 1" shifts the decoded index by one: off the table
    // at its ends.
    EXPECT_FALSE(c.check_ack(server_view, isn + 1, c.make(server_view, isn, 536, 9), 9));
    EXPECT_FALSE(c.check_ack(server_view, isn, c.make(server_view, isn, 1460, 9) + 1, 9));
}

// Linux's cookie authenticates the count and the tuple, but the MSS index
// only by its range: seq or ack off by a little decode a neighbouring index,
// exactly as in the kernel (the transcription test agrees on every case).
TEST(Syncookie, NearbySeqOrAckDecodeNeighbouringMss)
{
    const syncookie c = cookies();
    const uint32_t cookie = c.make(server_view, 1000, 1460, 9); // index 3
    uint16_t mss = 0;
    EXPECT_TRUE(c.check(server_view, cookie - 1, 1000, 9, &mss));
    EXPECT_EQ(mss, 1440);
    EXPECT_TRUE(c.check(server_view, cookie, 1001, 9, &mss));
    EXPECT_EQ(mss, 1440);
    EXPECT_TRUE(c.check(server_view, cookie, 1003, 9, &mss));
    EXPECT_EQ(mss, 536);
    EXPECT_FALSE(c.check(server_view, cookie, 1004, 9));
    EXPECT_FALSE(c.check(server_view, cookie + 1, 1000, 9));
}

TEST(Syncookie, MssTableSelection)
{
    const struct {
        uint16_t client;
        uint16_t want;
    } cases[] = {{0, 536},    {535, 536},   {536, 536},   {1299, 536},  {1300, 1300},
                 {1439, 1300}, {1440, 1440}, {1459, 1440}, {1460, 1460}, {9000, 1460}};
    const syncookie c = cookies();
    for (const auto& k : cases) {
        uint16_t mss = 0;
        const uint32_t cookie = c.make(server_view, 1, k.client, 3, &mss);
        EXPECT_EQ(mss, k.want) << k.client;
        EXPECT_EQ(syncookie::msstab[syncookie::mss_index(k.client)], k.want) << k.client;
        uint16_t back = 0;
        ASSERT_TRUE(c.check(server_view, cookie, 1, 3, &back));
        EXPECT_EQ(back, k.want) << k.client;
    }
}

// ---- expiry ---------------------------------------------------------------------

TEST(Syncookie, ValidForTwoCountsOnly)
{
    const syncookie c = cookies();
    for (uint32_t count : {0u, 1u, 254u, 255u, 256u, 0xFFFFFFu, 0x1000000u, 0xFFFFFFFEu, 0xFFFFFFFFu}) {
        const uint32_t cookie = c.make(server_view, 4242, 1300, count);
        EXPECT_TRUE(c.check(server_view, cookie, 4242, count)) << count;
        EXPECT_TRUE(c.check(server_view, cookie, 4242, count + 1)) << count; // may wrap past 2^32
        for (uint32_t later : {2u, 3u, 100u, 255u, 256u, 257u, 0x1000000u}) {
            EXPECT_FALSE(c.check(server_view, cookie, 4242, count + later)) << count << "+" << later;
        }
        // The counter going backwards (a cookie "from the future").
        for (uint32_t earlier : {1u, 2u, 255u, 256u}) {
            EXPECT_FALSE(c.check(server_view, cookie, 4242, count - earlier)) << count << "-" << earlier;
        }
    }
}

TEST(Syncookie, CountBitsWrapAt256)
{
    // Only the low 8 bits of the count travel in the cookie: a cookie made at
    // count 0x1FF (bits 0xFF) checked at 0x200 (bits 0x00) is one count old.
    const syncookie c = cookies();
    const uint32_t cookie = c.make(server_view, 9, 1440, 0x1FF);
    uint16_t mss = 0;
    EXPECT_TRUE(c.check(server_view, cookie, 9, 0x200, &mss));
    EXPECT_EQ(mss, 1440);
    EXPECT_EQ(syncookie::count_from_ms(60000 * 0x200u + 59999), 0x200u);
}

// ---- forgeries --------------------------------------------------------------------

TEST(Syncookie, RejectsOtherSecretTupleOrIsn)
{
    const syncookie c = cookies();
    const syncookie other_k0(siphash_key{{key0.k[0] ^ 1, key0.k[1]}}, key1);
    const syncookie other_k1(key0, siphash_key{{key1.k[0], key1.k[1] ^ 0x100}});
    std::mt19937 rng(11);
    int accepted = 0;
    for (const tuple4& t : random_tuples(1000, 12)) {
        const uint32_t isn = uint32_t(rng());
        const uint32_t cookie = c.make(t, isn, 1460, 77);
        ASSERT_TRUE(c.check(t, cookie, isn, 77));
        tuple4 v[4] = {t, t, t, t};
        v[0].laddr ^= rte_cpu_to_be_32(1);
        v[1].raddr ^= rte_cpu_to_be_32(0x100);
        v[2].lport ^= rte_cpu_to_be_16(1);
        v[3].rport ^= rte_cpu_to_be_16(0x8000);
        for (const tuple4& w : v) {
            accepted += c.check(w, cookie, isn, 77);
        }
        // Another client ISN (more than 3 away: see NearbySeqOrAckDecodeNeighbouringMss).
        accepted += c.check(t, cookie, isn + 4, 77);
        accepted += c.check(t, cookie, isn - 4, 77);
        accepted += c.check(t, cookie, uint32_t(rng()), 77);
        accepted += other_k0.check(t, cookie, isn, 77);
        accepted += other_k1.check(t, cookie, isn, 77);
        accepted += c.check(t, uint32_t(rng()), isn, 77);
    }
    // A forgery passes with probability about 4 / 2^24; 10000 tries: expect 0.
    EXPECT_EQ(accepted, 0);
}

TEST(Syncookie, PortsArePackedAsTheKernelPacksThem)
{
    // (u32)sport << 16 | dport of the raw big-endian values: swapping the
    // two ports must give a different cookie.
    const syncookie c = cookies();
    tuple4 swapped = server_view;
    std::swap(swapped.lport, swapped.rport);
    EXPECT_NE(c.make(server_view, 5, 1460, 1), c.make(swapped, 5, 1460, 1));
}

// ---- bursts: every SIMD variant this CPU has, forced in turn ----------------------

// A random rx burst of SYNs: tuples, client ISNs, MSS values (including
// none-like and jumbo ones), and burst sizes 1..32 as the engine sees them.
struct syn_burst {
    std::vector<tuple4> t;
    std::vector<uint32_t> isn;
    std::vector<uint16_t> mss;
};
syn_burst random_syns(std::size_t n, uint32_t seed)
{
    std::mt19937 rng(seed);
    syn_burst b{random_tuples(n, seed + 1), std::vector<uint32_t>(n), std::vector<uint16_t>(n)};
    for (std::size_t i = 0; i < n; i++) {
        b.isn[i] = uint32_t(rng());
        b.mss[i] = i % 7 == 0 ? uint16_t(rng()) : uint16_t(rng() % 2000);
    }
    return b;
}

class SyncookieBurst : public test::simd_test {};

// Large random input, cut into rx bursts of every size 1..32 (and one call
// over all of it): each cookie and MSS equal to the Linux transcription's
// and to the one-at-a-time call.
TEST_P(SyncookieBurst, MakeMatchesKernelTranscription)
{
    set_linux_secrets(key0, key1);
    const syncookie c = cookies();
    const std::size_t n = 20000;
    const syn_burst b = random_syns(n, 40 + uint32_t(level()));
    std::mt19937 rng(41);
    for (uint32_t count : {0u, 1u, 0xFFFFFFu, 0x1000000u, 0xFFFFFFFFu, uint32_t(rng())}) {
        linux_ref::jiffies_64 = uint64_t(count) * syncookie::period_ms;
        std::vector<uint32_t> out(n);
        std::vector<uint16_t> mss_out(n);
        for (std::size_t base = 0, burst = 1; base < n; base += burst, burst = burst % 32 + 1) {
            const std::size_t m = std::min(burst, n - base);
            c.make_burst(m, &b.t[base], &b.isn[base], &b.mss[base], count, &out[base], &mss_out[base]);
        }
        std::vector<uint32_t> all(n);
        c.make_burst(n, b.t.data(), b.isn.data(), b.mss.data(), count, all.data(), nullptr);
        for (std::size_t i = 0; i < n; i++) {
            const syn_hdrs h = syn_of(b.t[i], b.isn[i]);
            uint16_t linux_mss = b.mss[i];
            const uint32_t want = linux_ref::__cookie_v4_init_sequence(&h.ip, &h.tcp, &linux_mss);
            ASSERT_EQ(out[i], want) << "count " << count << " i " << i;
            ASSERT_EQ(mss_out[i], linux_mss) << i;
            ASSERT_EQ(all[i], want) << i;
            ASSERT_EQ(c.make(b.t[i], b.isn[i], b.mss[i], count), want) << i;
        }
    }
}

// Good cookies (this count and the last), too old, from the future, forged,
// and an MSS index off the table, checked at several later counts in bursts
// of every size: each lane equal to the Linux transcription and to check().
TEST_P(SyncookieBurst, CheckMatchesKernelTranscription)
{
    set_linux_secrets(key0, key1);
    const syncookie c = cookies();
    const std::size_t n = 12000;
    const syn_burst b = random_syns(n, 50 + uint32_t(level()));
    std::mt19937 rng(51);
    const uint32_t count0 = 0xFFFFFF; // the count's low 8 bits wrap between count0 and count0 + 1
    std::vector<uint32_t> cookie(n);
    for (std::size_t i = 0; i < n; i++) {
        switch (i % 6) {
        case 0: cookie[i] = c.make(b.t[i], b.isn[i], b.mss[i], count0); break;
        case 1: cookie[i] = c.make(b.t[i], b.isn[i], b.mss[i], count0 - 1); break;
        case 2: cookie[i] = c.make(b.t[i], b.isn[i], b.mss[i], count0 - 2); break;
        case 3: cookie[i] = c.make(b.t[i], b.isn[i], b.mss[i], count0 + 1); break;
        case 4: cookie[i] = uint32_t(rng()); break;
        default: cookie[i] = c.make_raw(b.t[i], b.isn[i], 4 + rng() % 100, count0); break;
        }
    }
    for (uint32_t later = 0; later < 3; later++) {
        const uint32_t count = count0 + later;
        linux_ref::jiffies_64 = uint64_t(count) * syncookie::period_ms;
        std::vector<uint16_t> mss(n + 1, 0xBEEF);
        std::size_t valid = 0;
        for (std::size_t base = 0, burst = 1; base < n; base += burst, burst = burst % 32 + 1) {
            const std::size_t m = std::min(burst, n - base);
            valid += c.check_burst(m, &b.t[base], &cookie[base], &b.isn[base], count, &mss[base]);
        }
        std::vector<uint16_t> all(n);
        EXPECT_EQ(c.check_burst(n, b.t.data(), cookie.data(), b.isn.data(), count, all.data()), valid);
        std::size_t want_valid = 0;
        for (std::size_t i = 0; i < n; i++) {
            syn_hdrs h = syn_of(b.t[i], b.isn[i] + 1); // the ACK: seq = client ISN + 1
            const int want = linux_ref::__cookie_v4_check(&h.ip, &h.tcp, cookie[i]);
            want_valid += want != 0;
            ASSERT_EQ(int(mss[i]), want) << "later " << later << " i " << i << " kind " << i % 6;
            ASSERT_EQ(all[i], mss[i]) << i;
            uint16_t one = 0;
            ASSERT_EQ(c.check(b.t[i], cookie[i], b.isn[i], count, &one), want != 0) << i;
        }
        EXPECT_EQ(valid, want_valid);
        EXPECT_EQ(mss[n], 0xBEEF); // nothing written past n
        EXPECT_GE(valid, n / 6); // at least one kind of good cookie at every later count
    }
}

TEST_P(SyncookieBurst, WritesNothingPastN)
{
    const syncookie c = cookies();
    const syn_burst b = random_syns(70, 31);
    for (uint32_t count : {0u, 1234567u}) {
        for (std::size_t n = 0; n <= 70; n++) {
            std::vector<uint32_t> out(n + 1, 0xDEADBEEF);
            std::vector<uint16_t> mss_out(n + 1, 0xBEEF);
            c.make_burst(n, b.t.data(), b.isn.data(), b.mss.data(), count, out.data(), mss_out.data());
            std::vector<uint16_t> checked(n + 1, 0xBEEF);
            EXPECT_EQ(c.check_burst(n, b.t.data(), out.data(), b.isn.data(), count, checked.data()), n);
            for (std::size_t i = 0; i < n; i++) {
                uint16_t want_mss = 0;
                ASSERT_EQ(out[i], c.make(b.t[i], b.isn[i], b.mss[i], count, &want_mss)) << n << " " << i;
                ASSERT_EQ(mss_out[i], want_mss);
                ASSERT_EQ(checked[i], want_mss);
            }
            EXPECT_EQ(out[n], 0xDEADBEEFu);
            EXPECT_EQ(mss_out[n], 0xBEEF);
            EXPECT_EQ(checked[n], 0xBEEF);
        }
    }
}

TEST_P(SyncookieBurst, AllForgedLeavesZeros)
{
    const syncookie c = cookies();
    const auto t = random_tuples(40, 35);
    uint32_t cookie[40];
    uint32_t isn[40];
    uint16_t mss[40];
    for (int i = 0; i < 40; i++) {
        isn[i] = uint32_t(i);
        cookie[i] = c.make(t[i], isn[i], 1460, 100) + (1u << 24); // from the future
        mss[i] = 0xBEEF;
    }
    EXPECT_EQ(c.check_burst(40, t.data(), cookie, isn, 100, mss), 0u);
    for (uint16_t m : mss) {
        EXPECT_EQ(m, 0);
    }
}

FG_INSTANTIATE_SIMD(SyncookieBurst);

// ---- timestamps -------------------------------------------------------------------

std::vector<cookie_options> all_cookie_options()
{
    std::vector<cookie_options> v;
    for (int ws = -1; ws <= 14; ws++) {
        for (bool sack : {false, true}) {
            for (bool ecn : {false, true}) {
                cookie_options o;
                o.wscale_ok = ws >= 0;
                o.snd_wscale = ws >= 0 ? uint8_t(ws) : 0;
                o.sack_ok = sack;
                o.ecn_ok = ecn;
                v.push_back(o);
            }
        }
    }
    return v;
}

TEST(SyncookieTs, RoundTripEveryOptionCombination)
{
    cookie_policy with_ecn;
    with_ecn.ecn = true;
    const auto all = all_cookie_options();
    ASSERT_EQ(all.size(), 16u * 2 * 2);
    for (const cookie_options& o : all) {
        for (uint32_t ts_now : {64u, 1000u, 123456789u, 0xFFFFFFFFu}) {
            const uint32_t tsval = syncookie::make_tsval(ts_now, o);
            cookie_options back;
            ASSERT_TRUE(syncookie::decode_tsecr(true, tsval, with_ecn, back));
            EXPECT_EQ(back, o) << "ws " << int(o.snd_wscale) << " ok " << o.wscale_ok;
        }
    }
}

TEST(SyncookieTs, NeverAheadOfTsNow)
{
    const auto all = all_cookie_options();
    std::mt19937 rng(21);
    std::vector<uint32_t> nows;
    for (uint32_t i = 0; i < 200; i++) {
        nows.push_back(i);
        nows.push_back(0xFFFFFFFFu - i);
    }
    for (int i = 0; i < 200; i++) {
        nows.push_back(uint32_t(rng()));
    }
    for (uint32_t now : nows) {
        for (const cookie_options& o : all) {
            const uint32_t ts = syncookie::make_tsval(now, o);
            // At most 63 ticks behind now, in modular (RFC 7323) order.
            const uint32_t behind = now - ts;
            ASSERT_LT(behind, 64u) << now;
        }
    }
}

TEST(SyncookieTs, EcnBitDependsOnPolicy)
{
    cookie_options o;
    o.ecn_ok = true;
    const uint32_t tsval = syncookie::make_tsval(100000, o);
    cookie_options back;
    ASSERT_TRUE(syncookie::decode_tsecr(true, tsval, cookie_policy{}, back)); // Linux: ECN off, cookie still good
    EXPECT_FALSE(back.ecn_ok);
}

TEST(SyncookieTs, PolicyRefusesDisabledOptions)
{
    cookie_options sack;
    sack.sack_ok = true;
    cookie_options ws;
    ws.wscale_ok = true;
    ws.snd_wscale = 7;
    cookie_options out;
    cookie_policy p;
    p.sack = false;
    EXPECT_FALSE(syncookie::decode_tsecr(true, syncookie::make_tsval(5000, sack), p, out));
    EXPECT_TRUE(syncookie::decode_tsecr(true, syncookie::make_tsval(5000, ws), p, out));
    p = cookie_policy{};
    p.window_scaling = false;
    EXPECT_FALSE(syncookie::decode_tsecr(true, syncookie::make_tsval(5000, ws), p, out));
    EXPECT_TRUE(syncookie::decode_tsecr(true, syncookie::make_tsval(5000, sack), p, out));
    p = cookie_policy{};
    p.timestamps = false;
    EXPECT_FALSE(syncookie::decode_tsecr(true, syncookie::make_tsval(5000, cookie_options{}), p, out));
}

TEST(SyncookieTs, NoTimestampMeansNoOptions)
{
    cookie_options out;
    out.sack_ok = true;
    out.wscale_ok = true;
    // Whatever bits a TSecr would carry, an ACK without timestamps gets none.
    EXPECT_TRUE(syncookie::decode_tsecr(false, 0x17, cookie_policy{}, out));
    EXPECT_EQ(out, cookie_options{});
}

TEST(SyncookieTs, OffsetRemovedOnlyFromNonZeroEcho)
{
    EXPECT_EQ(syncookie::tsecr_without_offset(0, 12345), 0u);
    EXPECT_EQ(syncookie::tsecr_without_offset(12345 + 0x47, 12345), 0x47u);
    EXPECT_EQ(syncookie::tsecr_without_offset(5, 10), uint32_t(-5)); // wraps like the kernel's u32
}

// ---- recently sent -----------------------------------------------------------------

TEST(CookieRecent, NothingSentIsNotRecent)
{
    cookie_recent r;
    EXPECT_FALSE(r.recent(0));
    EXPECT_FALSE(r.recent(123456));
}

TEST(CookieRecent, TwoMinuteWindowWithOneSecondSlackBelow)
{
    cookie_recent r;
    const uint32_t t = 1000000;
    r.note_sent(t);
    EXPECT_TRUE(r.recent(t));
    EXPECT_TRUE(r.recent(t + 120000));
    EXPECT_FALSE(r.recent(t + 120001));
    EXPECT_TRUE(r.recent(t - 1000));
    EXPECT_FALSE(r.recent(t - 1001));
}

TEST(CookieRecent, StampMovesAtMostOncePerSecond)
{
    cookie_recent r;
    const uint32_t t = 5000;
    r.note_sent(t);
    r.note_sent(t + 999); // within a second: stamp stays at t
    EXPECT_FALSE(r.recent(t + 120001));
    r.note_sent(t + 1001); // later: stamp moves
    EXPECT_TRUE(r.recent(t + 121001));
    EXPECT_FALSE(r.recent(t + 121002));
}

TEST(CookieRecent, WorksAcrossClockWrap)
{
    cookie_recent r;
    r.note_sent(0xFFFFFF00u);
    EXPECT_TRUE(r.recent(0x100));
    EXPECT_FALSE(r.recent(0xFFFFFF00u + 120001));
}

// ---- mode ---------------------------------------------------------------------------

TEST(SyncookieMode, ParseAndName)
{
    for (auto m : {syncookie_mode::automatic, syncookie_mode::always, syncookie_mode::never}) {
        syncookie_mode back = m == syncookie_mode::never ? syncookie_mode::always : syncookie_mode::never;
        ASSERT_TRUE(parse_syncookie_mode(syncookie_mode_name(m), back));
        EXPECT_EQ(back, m);
    }
    syncookie_mode m = syncookie_mode::never;
    EXPECT_TRUE(parse_syncookie_mode("auto", m));
    EXPECT_EQ(m, syncookie_mode::automatic);
    EXPECT_STREQ(syncookie_mode_name(syncookie_mode::always), "always");
    for (const char* bad : {"", "Auto", "1", "automatic", "nev"}) {
        syncookie_mode untouched = syncookie_mode::always;
        EXPECT_FALSE(parse_syncookie_mode(bad, untouched)) << bad;
        EXPECT_EQ(untouched, syncookie_mode::always);
    }
}

} // namespace
} // namespace fg::tcp
