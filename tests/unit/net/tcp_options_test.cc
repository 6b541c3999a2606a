// TCP options: one test per rule of Linux's tcp_parse_options(), and the exact
// byte layout of Linux's tcp_options_write() for every combination.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "frames.hh"
#include "net/tcp_options.hh"

namespace fg::net::test {
namespace {

// Parses `bytes` placed so that a read past their end faults.
tcp_options parse(const std::vector<uint8_t>& bytes, bool syn = true)
{
    static guarded_page page;
    const uint8_t* p = page.place(bytes.data(), uint32_t(bytes.size()));
    tcp_options o;
    parse_tcp_options(p, uint32_t(bytes.size()), syn, o);
    return o;
}

const std::vector<uint8_t> mss1460 = {2, 4, 0x05, 0xb4};

TEST(TcpOptionsParse, Empty)
{
    EXPECT_EQ(parse({}), tcp_options{});
}

TEST(TcpOptionsParse, ResetsOutput)
{
    tcp_options o;
    o.has_mss = true;
    o.mss = 9000;
    o.has_ts = true;
    parse_tcp_options(nullptr, 0, true, o);
    EXPECT_EQ(o, tcp_options{});
}

TEST(TcpOptionsParse, EolEndsParsing)
{
    const tcp_options o = parse({0, 2, 4, 0x05, 0xb4, 1, 1, 1});
    EXPECT_FALSE(o.has_mss);
    const tcp_options p = parse({2, 4, 0x05, 0xb4, 0, 3, 3, 7});
    EXPECT_TRUE(p.has_mss);
    EXPECT_FALSE(p.has_wscale);
}

TEST(TcpOptionsParse, NopSkipped)
{
    const tcp_options o = parse({1, 1, 1, 2, 4, 0x05, 0xb4, 1});
    EXPECT_TRUE(o.has_mss);
    EXPECT_EQ(o.mss, 1460);
}

TEST(TcpOptionsParse, LengthBelowTwoEndsParsing)
{
    for (uint8_t len : {0, 1}) {
        const tcp_options o = parse({8, len, 2, 4, 0x05, 0xb4, 1, 1});
        EXPECT_FALSE(o.has_mss) << int(len);
        EXPECT_FALSE(o.has_ts) << int(len);
        // Also for a kind we do not know.
        const tcp_options u = parse({99, len, 2, 4, 0x05, 0xb4});
        EXPECT_FALSE(u.has_mss) << int(len);
    }
}

TEST(TcpOptionsParse, OptionRunningPastTheEndEndsParsing)
{
    // Window scale first, then a timestamp claiming 10 bytes with 8 left.
    const tcp_options o = parse({1, 3, 3, 7, 8, 10, 0, 0, 0, 1, 0, 0});
    EXPECT_TRUE(o.has_wscale);
    EXPECT_FALSE(o.has_ts);
    // MSS cut after its length byte.
    EXPECT_FALSE(parse({2, 4, 0x05}).has_mss);
    // An unknown option longer than what is left.
    EXPECT_FALSE(parse({30, 40, 2, 4, 0x05, 0xb4}).has_mss);
}

TEST(TcpOptionsParse, KindAsLastByteEndsParsing)
{
    EXPECT_FALSE(parse({1, 1, 1, 2}).has_mss);
    EXPECT_FALSE(parse({3, 3, 7, 8}).has_ts);
}

TEST(TcpOptionsParse, WrongFixedSizeIgnoredAndSkipped)
{
    // Each option with a wrong size is ignored, and parsing resumes after it.
    const tcp_options mss = parse({2, 6, 0x05, 0xb4, 0, 0, 1, 3, 3, 7});
    EXPECT_FALSE(mss.has_mss);
    EXPECT_TRUE(mss.has_wscale);
    const tcp_options ws = parse({3, 4, 7, 0, 2, 4, 0x05, 0xb4});
    EXPECT_FALSE(ws.has_wscale);
    EXPECT_TRUE(ws.has_mss);
    const tcp_options sack = parse({4, 3, 0, 2, 4, 0x05, 0xb4});
    EXPECT_FALSE(sack.sack_ok);
    EXPECT_TRUE(sack.has_mss);
    const tcp_options ts = parse({8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 2, 4, 0x05, 0xb4});
    EXPECT_FALSE(ts.has_ts);
    EXPECT_TRUE(ts.has_mss);
    const tcp_options small = parse({2, 2, 2, 4, 0x05, 0xb4});
    EXPECT_TRUE(small.has_mss);
    EXPECT_EQ(small.mss, 1460);
}

TEST(TcpOptionsParse, SynOnlyOptionsIgnoredWithoutSyn)
{
    const std::vector<uint8_t> all = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6, 1, 3, 3, 7};
    const tcp_options o = parse(all, false);
    EXPECT_FALSE(o.has_mss);
    EXPECT_FALSE(o.sack_ok);
    EXPECT_FALSE(o.has_wscale);
    EXPECT_TRUE(o.has_ts);
    const tcp_options s = parse(all, true);
    EXPECT_TRUE(s.has_mss);
    EXPECT_TRUE(s.sack_ok);
    EXPECT_TRUE(s.has_wscale);
    EXPECT_TRUE(s.has_ts);
}

TEST(TcpOptionsParse, TimestampsParsedOnAnySegment)
{
    const tcp_options o = parse({1, 1, 8, 10, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04}, false);
    EXPECT_TRUE(o.has_ts);
    EXPECT_EQ(o.ts_val, 0xdeadbeefu);
    EXPECT_EQ(o.ts_ecr, 0x01020304u);
}

TEST(TcpOptionsParse, MssZeroIgnored)
{
    EXPECT_FALSE(parse({2, 4, 0, 0}).has_mss);
    // ... and does not undo an earlier MSS.
    const tcp_options o = parse({2, 4, 0x05, 0xb4, 2, 4, 0, 0});
    EXPECT_TRUE(o.has_mss);
    EXPECT_EQ(o.mss, 1460);
}

TEST(TcpOptionsParse, LaterDuplicatesWin)
{
    const tcp_options o = parse({2, 4, 0x03, 0xe8, 2, 4, 0x05, 0xb4, 1, 3, 3, 2, 1, 3, 3, 9});
    EXPECT_EQ(o.mss, 1460);
    EXPECT_EQ(o.wscale, 9);
    const tcp_options t = parse({8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 8, 10, 0, 0, 0, 3, 0, 0, 0, 4});
    EXPECT_EQ(t.ts_val, 3u);
    EXPECT_EQ(t.ts_ecr, 4u);
}

TEST(TcpOptionsParse, WindowScaleAbove14Clamped)
{
    for (uint8_t ws : {15, 16, 100, 255}) {
        const tcp_options o = parse({1, 3, 3, ws});
        EXPECT_TRUE(o.has_wscale);
        EXPECT_EQ(o.wscale, 14) << int(ws);
    }
    EXPECT_EQ(parse({1, 3, 3, 14}).wscale, 14);
    EXPECT_EQ(parse({1, 3, 3, 0}).wscale, 0);
    EXPECT_TRUE(parse({1, 3, 3, 0}).has_wscale);
}

TEST(TcpOptionsParse, UnknownAndSackBlocksSkipped)
{
    const tcp_options o = parse({5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 30, 3, 0, 1, 2, 4, 0x05, 0xb4});
    EXPECT_TRUE(o.has_mss);
    EXPECT_EQ(o.mss, 1460);
}

TEST(TcpOptionsParse, NeverReadsPastLengthAtAnyCut)
{
    // Every prefix of a full SYN option block parses without reading beyond it
    // (guarded page), and only options complete in the prefix count.
    const std::vector<uint8_t> all = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6, 1, 3, 3, 7};
    for (size_t n = 0; n <= all.size(); n++) {
        const tcp_options o = parse(std::vector<uint8_t>(all.begin(), all.begin() + n));
        EXPECT_EQ(o.has_mss, n >= 4) << n;
        EXPECT_EQ(o.sack_ok, n >= 6) << n;
        EXPECT_EQ(o.has_ts, n >= 16) << n;
        EXPECT_EQ(o.has_wscale, n >= 20) << n;
    }
}

// parse_tcp_options() recognises Linux's SYN layout (20 bytes) and NOP,NOP,TS
// (12 bytes) whole. Appending an EOL (plus padding) forces the general loop
// on the same options: both must always agree, also on near misses.
TEST(TcpOptionsParse, FastPathsAgreeWithGeneralLoop)
{
    std::mt19937 rng(13);
    for (int i = 0; i < 200000; i++) {
        std::vector<uint8_t> b;
        if ((rng() & 1) != 0) {
            b = {2, 4, 0, 0, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 0};
            b[2] = uint8_t(rng() % 4 == 0 ? 0 : rng());
            b[3] = uint8_t(rng());
            b[19] = uint8_t(rng() % 2 == 0 ? rng() % 15 : rng());
        } else {
            b = {1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0};
        }
        const size_t ts = b.size() == 20 ? 8 : 4;
        for (size_t j = 0; j < 8; j++) {
            b[ts + j] = uint8_t(rng());
        }
        if (rng() % 4 == 0) {
            b[rng() % b.size()] = uint8_t(rng() % 12); // near miss: one byte off the layout
        }
        const bool syn = (rng() & 1) != 0;
        std::vector<uint8_t> padded = b;
        padded.insert(padded.end(), {0, 0, 0, 0});
        ASSERT_EQ(parse(b, syn), parse(padded, syn)) << i;
    }
    // The fast path is taken for the exact layouts, with the rules applied.
    const tcp_options o = parse({2, 4, 0, 0, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 1, 3, 3, 20});
    EXPECT_FALSE(o.has_mss); // MSS 0 ignored
    EXPECT_TRUE(o.sack_ok);
    EXPECT_EQ(o.wscale, 14); // clamped
    EXPECT_EQ(o.ts_val, 7u);
    EXPECT_EQ(o.ts_ecr, 9u);
    const tcp_options n = parse({2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 1, 3, 3, 7}, false);
    EXPECT_FALSE(n.has_mss); // not a SYN
    EXPECT_FALSE(n.sack_ok);
    EXPECT_FALSE(n.has_wscale);
    EXPECT_TRUE(n.has_ts);
}

TEST(TcpOptions, EffectiveMss)
{
    tcp_options o;
    EXPECT_EQ(effective_mss(o), 536);
    o.has_mss = true;
    o.mss = 1;
    EXPECT_EQ(effective_mss(o), 48);
    o.mss = 47;
    EXPECT_EQ(effective_mss(o), 48);
    o.mss = 48;
    EXPECT_EQ(effective_mss(o), 48);
    o.mss = 1460;
    EXPECT_EQ(effective_mss(o), 1460);
    o.mss = 65535;
    EXPECT_EQ(effective_mss(o), 65535);
}

// --- writing -----------------------------------------------------------------

struct layout_case {
    bool mss, sack, ts, ws;
    std::vector<uint8_t> bytes;
};

// MSS 1460, TS (0x01020304, 0x0a0b0c0d), WS 7, as Linux's tcp_options_write() lays them out.
const layout_case layouts[] = {
    {false, false, false, false, {}},
    {true, false, false, false, {2, 4, 5, 0xb4}},
    {false, true, false, false, {1, 1, 4, 2}},
    {false, false, true, false, {1, 1, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13}},
    {false, false, false, true, {1, 3, 3, 7}},
    {true, true, false, false, {2, 4, 5, 0xb4, 1, 1, 4, 2}},
    {true, false, true, false, {2, 4, 5, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13}},
    {true, false, false, true, {2, 4, 5, 0xb4, 1, 3, 3, 7}},
    {false, true, true, false, {4, 2, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13}},
    {false, true, false, true, {1, 1, 4, 2, 1, 3, 3, 7}},
    {false, false, true, true, {1, 1, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13, 1, 3, 3, 7}},
    {true, true, true, false, {2, 4, 5, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13}},
    {true, true, false, true, {2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7}},
    {true, false, true, true, {2, 4, 5, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13, 1, 3, 3, 7}},
    {false, true, true, true, {4, 2, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13, 1, 3, 3, 7}},
    {true, true, true, true, {2, 4, 5, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13, 1, 3, 3, 7}},
};

tcp_options options_for(const layout_case& c)
{
    tcp_options o;
    o.has_mss = c.mss;
    o.mss = c.mss ? 1460 : 0;
    o.sack_ok = c.sack;
    o.has_ts = c.ts;
    o.ts_val = c.ts ? 0x01020304 : 0;
    o.ts_ecr = c.ts ? 0x0a0b0c0d : 0;
    o.has_wscale = c.ws;
    o.wscale = c.ws ? 7 : 0;
    return o;
}

TEST(TcpOptionsWrite, LinuxLayoutForEveryCombination)
{
    for (const layout_case& c : layouts) {
        const tcp_options o = options_for(c);
        uint8_t buf[64];
        std::memset(buf, 0xee, sizeof(buf));
        const uint32_t n = write_tcp_options(buf, o);
        EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), c.bytes) << c.mss << c.sack << c.ts << c.ws;
        EXPECT_EQ(n, tcp_options_len(o));
        EXPECT_EQ(n % 4, 0u);
        EXPECT_LE(n, tcp_max_options_len);
        EXPECT_EQ(buf[n], 0xee) << "wrote past the returned length";
    }
}

TEST(TcpOptionsWrite, ParsesBackToTheSameOptions)
{
    for (const layout_case& c : layouts) {
        const tcp_options o = options_for(c);
        uint8_t buf[64];
        const uint32_t n = write_tcp_options(buf, o);
        EXPECT_EQ(parse(std::vector<uint8_t>(buf, buf + n), true), o);
    }
    std::mt19937 rng(7);
    for (int i = 0; i < 10000; i++) {
        const tcp_options o = random_tcp_options(rng, 65535);
        uint8_t buf[64];
        const uint32_t n = write_tcp_options(buf, o);
        ASSERT_EQ(parse(std::vector<uint8_t>(buf, buf + n), true), o) << i;
    }
}

} // namespace
} // namespace fg::net::test
