// The bulk connection generator: token bucket, concurrency limit, total and
// generator_done(), round robin over targets and source addresses, the close
// modes, and no events posted; plus the RTT histogram.
#include <cerrno>
#include <set>

#include "active_harness.hh"

namespace fg::tcp::atest {
namespace {

class generator : public active {
protected:
    void SetUp() override
    {
        active::SetUp();
        acfg.gen.targets = {tuple4{0, be32(ip_peer), 0, be16(peer_port)}};
        acfg.gen.cps = 1e6;
        acfg.gen.burst = 16; // below the pkt_out batch, so the test double never flushes
    }
    // The peer answers every SYN in `syns` with a SYN-ACK.
    void answer(const std::vector<seg>& syns)
    {
        for (const seg& s : syns) {
            synack(s, 700000);
        }
    }
};

TEST_F(generator, TokenBucketPacesAtCps)
{
    acfg.gen.cps = 1000; // one per ms
    start();
    EXPECT_EQ(eng->generate(), 0u); // the bucket starts empty
    uint32_t opened = 0;
    for (uint32_t ms = 1; ms <= 20; ms++) {
        tick_to(t_start + ms);
        opened += eng->generate();
        discard_sent();
    }
    EXPECT_EQ(opened, 20u);
    EXPECT_EQ(count(ctr::attempted), 20u);
    tick_to(t_start + 520); // 500 tokens due, 16 banked at most
    EXPECT_EQ(eng->generate(), 16u);
    EXPECT_EQ(eng->generate(), 0u);
    EXPECT_EQ(sent().size(), 16u);
    EXPECT_TRUE(events().empty());
}

TEST_F(generator, FractionalRatesAccumulate)
{
    acfg.gen.cps = 250; // one per 4 ms
    start();
    uint32_t opened = 0;
    for (uint32_t ms = 1; ms <= 40; ms++) {
        tick_to(t_start + ms);
        opened += eng->generate();
    }
    EXPECT_EQ(opened, 10u);
}

TEST_F(generator, ConcurrencyLimitIsRespected)
{
    acfg.gen.concurrency = 10;
    start();
    tick_to(t_start + 1);
    EXPECT_EQ(eng->generate(), 10u);
    EXPECT_EQ(eng->generator_in_flight(), 10u);
    const std::vector<seg> syns = sent();
    ASSERT_EQ(syns.size(), 10u);
    tick_to(t_start + 2);
    EXPECT_EQ(eng->generate(), 0u);
    // One refused: one place frees.
    in(syns[0].ours(), th_rst | th_ack, 0, syns[0].seq() + 1);
    EXPECT_EQ(eng->generator_in_flight(), 9u);
    tick_to(t_start + 3);
    EXPECT_EQ(eng->generate(), 1u);
    EXPECT_EQ(eng->generator_in_flight(), 10u);
    EXPECT_EQ(count(ctr::refused), 1u);
    EXPECT_TRUE(events().empty()); // the generator posts nothing
}

// Close mode rst: the final ACK, then RST <SEQ=SND.NXT>, freed at once.
TEST_F(generator, CloseModeRstAndGeneratorDone)
{
    acfg.gen.total = 5;
    acfg.gen.close = close_mode::rst;
    start();
    tick_to(t_start + 1);
    EXPECT_EQ(eng->generate(), 5u);
    EXPECT_EQ(eng->generate(), 0u); // total reached
    EXPECT_FALSE(eng->generator_done());
    const std::vector<seg> syns = sent();
    tick_to(t_start + 3);
    for (const seg& s : syns) {
        synack(s, 700000);
        const std::vector<seg> out2 = sent();
        ASSERT_EQ(out2.size(), 2u);
        EXPECT_EQ(out2[0].flags(), th_ack);
        EXPECT_EQ(out2[0].ack(), 700001u);
        EXPECT_EQ(out2[1].flags(), th_rst | th_ack);
        EXPECT_EQ(out2[1].seq(), s.seq() + 1);
    }
    EXPECT_TRUE(eng->generator_done());
    EXPECT_EQ(count(ctr::established), 5u);
    EXPECT_EQ(count(ctr::closed_by_rst), 5u);
    EXPECT_EQ(eng->rtt().count(), 5u);
    EXPECT_EQ(eng->rtt().percentile(50), 2000u);
    EXPECT_TRUE(events().empty());
    expect_clean();
}

// Close mode fin: the final ACK, then FIN: FIN-WAIT-1 ... TIME-WAIT.
TEST_F(generator, CloseModeFinGoesThroughTimeWait)
{
    acfg.gen.total = 1;
    acfg.gen.close = close_mode::fin;
    acfg.time_wait_ms = 2000;
    start();
    tick_to(t_start + 1);
    EXPECT_EQ(eng->generate(), 1u);
    const seg syn = one();
    synack(syn, 700000);
    const std::vector<seg> v = sent();
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].flags(), th_ack);
    EXPECT_EQ(v[1].flags(), th_fin | th_ack);
    EXPECT_EQ(v[1].seq(), syn.seq() + 1);
    const tuple4 t = syn.ours();
    EXPECT_EQ(find(t)->st, state::fin_wait_1);
    EXPECT_TRUE(eng->generator_done()); // closed by the generator: no longer in flight
    in(t, th_fin | th_ack, 700001, syn.seq() + 2);
    EXPECT_EQ(one().ack(), 700002u);
    EXPECT_EQ(find(t)->st, state::time_wait);
    EXPECT_EQ(count(ctr::time_wait_entered), 1u);
    EXPECT_TRUE(events().empty());
    tick_to(t_start + 1 + 2000);
    expect_clean();
}

// A peer RST in FIN-WAIT-1 frees a generator connection without an event.
TEST_F(generator, ResetWhileClosingIsQuiet)
{
    acfg.gen.total = 1;
    start();
    tick_to(t_start + 1);
    eng->generate();
    const seg syn = one();
    synack(syn, 700000);
    discard_sent();
    in(syn.ours(), th_rst, 700001, 0);
    EXPECT_EQ(count(ctr::rst_received), 1u);
    EXPECT_TRUE(events().empty());
    expect_clean();
}

// Close mode hold: ESTABLISHED for hold_ms, then FIN.
TEST_F(generator, CloseModeHoldThenFin)
{
    acfg.gen.total = 2;
    acfg.gen.close = close_mode::hold;
    acfg.gen.hold_ms = 500;
    start();
    tick_to(t_start + 1);
    EXPECT_EQ(eng->generate(), 2u);
    const std::vector<seg> syns = sent();
    answer(syns);
    EXPECT_EQ(sent().size(), 2u); // the two final ACKs
    EXPECT_EQ(find(syns[0].ours())->st, state::established);
    EXPECT_EQ(eng->generator_in_flight(), 2u);
    tick_to(t_start + 500);
    eng->generate();
    EXPECT_TRUE(sent().empty());
    EXPECT_FALSE(eng->generator_done());
    tick_to(t_start + 501);
    eng->generate();
    const std::vector<seg> fins = sent();
    ASSERT_EQ(fins.size(), 2u);
    EXPECT_EQ(fins[0].flags(), th_fin | th_ack);
    EXPECT_EQ(find(syns[1].ours())->st, state::fin_wait_1);
    EXPECT_TRUE(eng->generator_done());
    EXPECT_TRUE(events().empty());
}

// hold_ms 0: held until stop_generator(); a connection the peer resets
// meanwhile stops counting.
TEST_F(generator, HoldUntilStop)
{
    acfg.gen.total = 3;
    acfg.gen.close = close_mode::hold;
    start();
    tick_to(t_start + 1);
    EXPECT_EQ(eng->generate(), 3u);
    const std::vector<seg> syns = sent();
    answer(syns);
    discard_sent();
    in(syns[2].ours(), th_rst, 700001, 0); // ESTABLISHED (established.cc) frees it
    EXPECT_TRUE(events().empty());         // cf_auto: no application, no event
    for (uint32_t i = 0; i < 4; i++) {
        tick_to(t_start + 100 + i);
        eng->generate();
    }
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(eng->generator_in_flight(), 2u);
    EXPECT_FALSE(eng->generator_done());
    eng->stop_generator();
    eng->generate();
    EXPECT_EQ(sent().size(), 2u); // two FINs
    EXPECT_TRUE(eng->generator_done());
}

// A peer FIN while held: answered with our FIN at once (LAST-ACK), no
// event, and the connection stops counting.
TEST_F(generator, HoldPeerFinIsAnsweredAndReleased)
{
    acfg.gen.total = 1;
    acfg.gen.close = close_mode::hold;
    acfg.gen.hold_ms = 10000;
    start();
    tick_to(t_start + 1);
    eng->generate();
    const seg syn = one();
    synack(syn, 700000);
    discard_sent();
    const tuple4 t = syn.ours();
    in(t, th_fin | th_ack, 700001, syn.seq() + 1);
    const std::vector<seg> v = sent();
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].flags(), th_ack);
    EXPECT_EQ(v[0].ack(), 700002u);
    EXPECT_EQ(v[1].flags(), th_fin | th_ack);
    EXPECT_EQ(find(t)->st, state::last_ack);
    EXPECT_TRUE(events().empty());
    tick_to(t_start + 2);
    eng->generate();
    EXPECT_EQ(eng->generator_in_flight(), 0u);
    EXPECT_TRUE(eng->generator_done());
    in(t, th_ack, 700002, syn.seq() + 2);
    EXPECT_TRUE(events().empty());
    expect_clean();
}

TEST_F(generator, RoundRobinOverTargetsAndSourceAddresses)
{
    acfg.gen.targets = {tuple4{0, be32(ip_peer), 0, be16(80)}, tuple4{0, be32(ip_peer), 0, be16(81)}};
    acfg.gen.laddrs = {be32(ip_first + 1), be32(ip_first + 2), be32(ip_first + 3)};
    acfg.gen.total = 12;
    start();
    tick_to(t_start + 1);
    EXPECT_EQ(eng->generate(), 12u);
    const std::vector<seg> syns = sent();
    ASSERT_EQ(syns.size(), 12u);
    std::set<rte_be32_t> srcs;
    for (uint32_t i = 0; i < syns.size(); i++) {
        EXPECT_EQ(syns[i].pi.tuple.lport, be16(i % 2 == 0 ? 80 : 81));
        srcs.insert(syns[i].pi.src_ip);
    }
    EXPECT_EQ(srcs, (std::set<rte_be32_t>{be32(ip_first + 1), be32(ip_first + 2), be32(ip_first + 3)}));
}

TEST_F(generator, FailuresCountTowardTotalWithoutStalling)
{
    acfg.gen.targets = {tuple4{0, be32(ip_nowhere), 0, be16(80)}};
    acfg.gen.total = 3;
    start();
    tick_to(t_start + 1);
    EXPECT_EQ(eng->generate(), 3u);
    EXPECT_EQ(count(ctr::unreachable), 3u);
    EXPECT_EQ(count(ctr::attempted), 0u);
    EXPECT_TRUE(eng->generator_done());
    EXPECT_TRUE(events().empty());
    expect_clean();
}

TEST_F(generator, NoPortIsCountedAndTheGeneratorGoesOn)
{
    acfg.ports.lo = 40000;
    acfg.ports.hi = 40015;
    acfg.gen.total = 20;
    acfg.gen.burst = 20;
    start();
    tick_to(t_start + 1);
    EXPECT_EQ(eng->generate(), 20u);
    EXPECT_EQ(count(ctr::attempted), 16u);
    EXPECT_EQ(count(ctr::no_port), 4u);
    EXPECT_EQ(eng->generator_in_flight(), 16u);
    EXPECT_EQ(sent().size(), 16u);
}

TEST_F(generator, SynTimeoutReleasesThePlace)
{
    acfg.gen.total = 1;
    acfg.syn_retries = 0;
    start();
    tick_to(t_start + 1);
    eng->generate();
    discard_sent();
    tick_to(t_start + 1001);
    EXPECT_EQ(count(ctr::timed_out), 1u);
    EXPECT_TRUE(eng->generator_done());
    EXPECT_TRUE(events().empty());
    expect_clean();
}

TEST_F(generator, BadConfigIsRefused)
{
    acfg.gen.cps = 0;
    eng = std::make_unique<engine>();
    std::string err;
    EXPECT_FALSE(eng->init(cfg, t_start, err));
    EXPECT_FALSE(err.empty());
    acfg.gen.cps = 10;
    acfg.gen.laddrs = {be32(ipv4(10, 1, 1, 1))}; // not ours
    eng = std::make_unique<engine>();
    EXPECT_FALSE(eng->init(cfg, t_start, err));
}

// ---- RTT histogram ----

TEST(rtt_histogram, BucketsBoundTheirValuesWithinOneSixteenth)
{
    for (uint32_t v : {0u, 1u, 31u, 32u, 33u, 100u, 1000u, 12345u, 999999u, 59999999u, 60000000u}) {
        const uint32_t b = rtt_histogram::bucket_of(v);
        EXPECT_LE(rtt_histogram::bucket_low(b), v);
        EXPECT_GE(rtt_histogram::bucket_high(b), v);
        EXPECT_LE(rtt_histogram::bucket_high(b) - rtt_histogram::bucket_low(b), v / 16) << v;
        EXPECT_LT(b, rtt_histogram::n_buckets);
    }
    // Consecutive buckets tile the value range.
    for (uint32_t b = 1; b < rtt_histogram::n_buckets; b++) {
        EXPECT_EQ(rtt_histogram::bucket_low(b), rtt_histogram::bucket_high(b - 1) + 1) << b;
    }
}

TEST(rtt_histogram, PercentilesAndMerge)
{
    rtt_histogram a;
    rtt_histogram b;
    for (uint32_t i = 1; i <= 100; i++) {
        a.record(i * 100); // 100 .. 10000 us
    }
    b.record(500000);
    EXPECT_EQ(a.percentile(0), 100u);
    EXPECT_EQ(a.percentile(100), 10000u);
    const uint32_t p50 = a.percentile(50);
    EXPECT_GE(p50, 5000u);
    EXPECT_LE(p50, 5000u + 5000u / 16);
    const uint32_t p99 = a.percentile(99);
    EXPECT_GE(p99, 9900u);
    EXPECT_LE(p99, 10000u);
    a.merge(b);
    EXPECT_EQ(a.count(), 101u);
    EXPECT_EQ(a.max(), 500000u);
    EXPECT_EQ(a.percentile(100), 500000u);
    EXPECT_EQ(a.min(), 100u);
    EXPECT_DOUBLE_EQ(a.mean(), (505000.0 + 500000.0) / 101.0);
    rtt_histogram e;
    EXPECT_EQ(e.percentile(50), 0u);
    e.record(90000000u); // above 60 s: last bucket, exact max
    EXPECT_EQ(e.percentile(100), 90000000u);
}

} // namespace
} // namespace fg::tcp::atest
