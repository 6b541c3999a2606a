// The load generator (lib/gen) driving a real engine through its local
// application API: token bucket, concurrency, total and done(), round robin
// over targets and source addresses, the close modes, holds and stop(),
// source pairs recycled only once the engine released them, immediate
// no_port, and no event on the application ring. Uses the active-side
// harness of tests/unit/tcp (EAL --no-huge, route table, classified output).
#include <cerrno>
#include <set>

#include "../tcp/active_harness.hh"
#include "gen/generator.hh"

namespace fg::tcp::atest {
namespace {

using gen::close_mode;

class generator : public active {
protected:
    gen::config g;
    steering steer{1};
    std::unique_ptr<gen::generator> gn;

    void SetUp() override
    {
        active::SetUp();
        g.targets = {tuple4{0, be32(ip_peer), 0, be16(peer_port)}};
        g.laddrs = {be32(ip_first)};
        g.cps = 1e6;
        g.burst = 16; // below the pkt_out batch, so the test double never flushes
    }
    void TearDown() override
    {
        gn.reset();
        active::TearDown();
    }
    void start_gen()
    {
        start();
        gn = std::make_unique<gen::generator>();
        std::string err;
        ASSERT_TRUE(gn->init(g, gen::env{eng.get(), g_routes, nullptr, &steer, 0}, err)) << err;
        EXPECT_EQ(poll(), 0u); // the first poll starts the bucket, empty
    }
    // The generator's poll at the engine's clock.
    uint32_t poll() { return gn->poll(uint64_t(eng->now_ms()) * 1000000u); }
    uint64_t gcount(gen::ctr c) const { return gn->ctrs()[c]; }
    void answer(const std::vector<seg>& syns)
    {
        for (const seg& s : syns) {
            synack(s, 700000);
        }
    }
};

TEST_F(generator, TokenBucketPacesAtCps)
{
    g.cps = 1000; // one per ms
    start_gen();
    uint32_t opened = 0;
    for (uint32_t ms = 1; ms <= 20; ms++) {
        tick_to(t_start + ms);
        opened += poll();
        discard_sent();
    }
    EXPECT_EQ(opened, 20u);
    EXPECT_EQ(count(ctr::attempted), 20u);
    tick_to(t_start + 520); // 500 tokens due, 16 banked at most
    EXPECT_EQ(poll(), 16u);
    EXPECT_EQ(poll(), 0u);
    EXPECT_EQ(sent().size(), 16u);
    EXPECT_TRUE(events().empty()); // the application ring sees nothing of the generator
}

TEST_F(generator, FractionalRatesAccumulate)
{
    g.cps = 250; // one per 4 ms
    start_gen();
    uint32_t opened = 0;
    for (uint32_t ms = 1; ms <= 40; ms++) {
        tick_to(t_start + ms);
        opened += poll();
    }
    EXPECT_EQ(opened, 10u);
}

TEST_F(generator, ConcurrencyLimitIsRespected)
{
    g.concurrency = 10;
    start_gen();
    tick_to(t_start + 1);
    EXPECT_EQ(poll(), 10u);
    EXPECT_EQ(gn->in_flight(), 10u);
    const std::vector<seg> syns = sent();
    ASSERT_EQ(syns.size(), 10u);
    tick_to(t_start + 2);
    EXPECT_EQ(poll(), 0u);
    // One refused: one place frees, and its source pair comes back.
    in(syns[0].ours(), th_rst | th_ack, 0, syns[0].seq() + 1);
    EXPECT_EQ(gn->in_flight(), 9u);
    EXPECT_EQ(gcount(gen::ctr::failed), 1u);
    EXPECT_EQ(gcount(gen::ctr::released), 1u);
    tick_to(t_start + 3);
    EXPECT_EQ(poll(), 1u);
    EXPECT_EQ(gn->in_flight(), 10u);
    EXPECT_EQ(count(ctr::refused), 1u);
    EXPECT_TRUE(events().empty());
}

// Close mode rst: the final ACK, then RST <SEQ=SND.NXT>, freed at once.
TEST_F(generator, CloseModeRstAndDone)
{
    g.total = 5;
    g.close = close_mode::rst;
    start_gen();
    tick_to(t_start + 1);
    EXPECT_EQ(poll(), 5u);
    EXPECT_EQ(poll(), 0u); // total reached
    EXPECT_FALSE(gn->done());
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
    EXPECT_TRUE(gn->done());
    EXPECT_EQ(count(ctr::established), 5u);
    EXPECT_EQ(gcount(gen::ctr::closed_by_rst), 5u);
    EXPECT_EQ(gcount(gen::ctr::released), 5u);
    EXPECT_EQ(eng->rtt().count(), 5u);
    EXPECT_EQ(eng->rtt().percentile(50), 2000u);
    EXPECT_TRUE(events().empty());
    expect_clean();
}

// Close mode fin: FIN-WAIT-1 ... TIME-WAIT; the 4-tuple is released only
// when TIME-WAIT ends.
TEST_F(generator, CloseModeFinReleasesAfterTimeWait)
{
    g.total = 1;
    g.close = close_mode::fin;
    acfg.time_wait_ms = 2000;
    start_gen();
    tick_to(t_start + 1);
    EXPECT_EQ(poll(), 1u);
    const seg syn = one();
    synack(syn, 700000);
    const std::vector<seg> v = sent();
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].flags(), th_ack);
    EXPECT_EQ(v[1].flags(), th_fin | th_ack);
    EXPECT_EQ(v[1].seq(), syn.seq() + 1);
    const tuple4 t = syn.ours();
    EXPECT_EQ(find(t)->st, state::fin_wait_1);
    EXPECT_TRUE(gn->done()); // closed by the generator: no longer in flight
    in(t, th_fin | th_ack, 700001, syn.seq() + 2);
    EXPECT_EQ(one().ack(), 700002u);
    EXPECT_EQ(find(t)->st, state::time_wait);
    EXPECT_EQ(gcount(gen::ctr::released), 0u);
    EXPECT_TRUE(events().empty());
    tick_to(t_start + 1 + 2000);
    EXPECT_EQ(gcount(gen::ctr::released), 1u);
    expect_clean();
}

// A peer RST in FIN-WAIT-1 frees a generator connection quietly.
TEST_F(generator, ResetWhileClosingIsQuiet)
{
    g.total = 1;
    g.close = close_mode::fin;
    start_gen();
    tick_to(t_start + 1);
    poll();
    const seg syn = one();
    synack(syn, 700000);
    discard_sent();
    in(syn.ours(), th_rst, 700001, 0);
    EXPECT_EQ(count(ctr::rst_received), 1u);
    EXPECT_EQ(gcount(gen::ctr::held_lost), 0u);
    EXPECT_EQ(gcount(gen::ctr::released), 1u);
    EXPECT_TRUE(events().empty());
    EXPECT_TRUE(gn->done());
    expect_clean();
}

// Close mode hold: ESTABLISHED for hold_ms, then FIN.
TEST_F(generator, CloseModeHoldThenFin)
{
    g.total = 2;
    g.close = close_mode::hold;
    g.hold_ms = 500;
    start_gen();
    tick_to(t_start + 1);
    EXPECT_EQ(poll(), 2u);
    const std::vector<seg> syns = sent();
    answer(syns);
    EXPECT_EQ(sent().size(), 2u); // the two final ACKs
    EXPECT_EQ(find(syns[0].ours())->st, state::established);
    EXPECT_EQ(gn->in_flight(), 2u);
    tick_to(t_start + 500);
    poll();
    EXPECT_TRUE(sent().empty());
    EXPECT_FALSE(gn->done());
    tick_to(t_start + 501);
    poll();
    const std::vector<seg> fins = sent();
    ASSERT_EQ(fins.size(), 2u);
    EXPECT_EQ(fins[0].flags(), th_fin | th_ack);
    EXPECT_EQ(find(syns[1].ours())->st, state::fin_wait_1);
    EXPECT_EQ(gcount(gen::ctr::hold_ended), 2u);
    EXPECT_TRUE(gn->done());
    EXPECT_TRUE(events().empty());
}

// hold_ms 0: held until stop(); a connection the peer resets meanwhile
// stops counting; stop() finds the others by sweeping the engine's pool.
TEST_F(generator, HoldUntilStop)
{
    g.total = 3;
    g.close = close_mode::hold;
    start_gen();
    tick_to(t_start + 1);
    EXPECT_EQ(poll(), 3u);
    const std::vector<seg> syns = sent();
    answer(syns);
    discard_sent();
    in(syns[2].ours(), th_rst, 700001, 0); // ESTABLISHED (established.cc) frees it
    EXPECT_EQ(gcount(gen::ctr::held_lost), 1u);
    for (uint32_t i = 0; i < 4; i++) {
        tick_to(t_start + 100 + i);
        poll();
    }
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(gn->in_flight(), 2u);
    EXPECT_FALSE(gn->done());
    gn->stop();
    poll();
    EXPECT_EQ(sent().size(), 2u); // two FINs
    EXPECT_EQ(gcount(gen::ctr::hold_ended), 2u);
    EXPECT_TRUE(gn->done());
    EXPECT_TRUE(events().empty());
}

// A peer FIN while held: answered with our FIN at once (LAST-ACK), the
// connection stops counting, and its pair comes back when LAST-ACK ends.
TEST_F(generator, HoldPeerFinIsAnsweredAndReleased)
{
    g.total = 1;
    g.close = close_mode::hold;
    g.hold_ms = 10000;
    start_gen();
    tick_to(t_start + 1);
    poll();
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
    EXPECT_EQ(gn->in_flight(), 0u);
    EXPECT_TRUE(gn->done());
    in(t, th_ack, 700002, syn.seq() + 2);
    EXPECT_EQ(gcount(gen::ctr::released), 1u);
    tick_to(t_start + 20000); // the stale hold entry comes due: nothing to close
    poll();
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(gcount(gen::ctr::hold_ended), 0u);
    EXPECT_TRUE(events().empty());
    expect_clean();
}

// Peers resetting held connections while new ones open: the hold FIFO
// (twice the concurrency) drops dead entries when full instead of growing.
TEST_F(generator, HoldFifoStaysBoundedUnderResets)
{
    g.close = close_mode::hold;
    g.hold_ms = 100000;
    g.concurrency = 2;
    start_gen();
    for (uint32_t round = 0; round < 50; round++) {
        tick_to(t_start + 1 + round);
        poll();
        const std::vector<seg> syns = sent();
        answer(syns);
        discard_sent();
        for (const seg& s : syns) {
            in(s.ours(), th_rst, 700001, 0);
        }
        ASSERT_EQ(gn->in_flight(), 0u) << round;
    }
    EXPECT_EQ(gcount(gen::ctr::held), 100u);
    EXPECT_EQ(gcount(gen::ctr::held_lost), 100u);
    EXPECT_EQ(gcount(gen::ctr::released), 100u);
    expect_clean();
}

TEST_F(generator, RoundRobinOverTargetsAndSourceAddresses)
{
    g.targets = {tuple4{0, be32(ip_peer), 0, be16(80)}, tuple4{0, be32(ip_peer), 0, be16(81)}};
    g.laddrs = {be32(ip_first + 1), be32(ip_first + 2), be32(ip_first + 3)};
    g.total = 12;
    start_gen();
    tick_to(t_start + 1);
    EXPECT_EQ(poll(), 12u);
    const std::vector<seg> syns = sent();
    ASSERT_EQ(syns.size(), 12u);
    std::set<rte_be32_t> srcs;
    for (uint32_t i = 0; i < syns.size(); i++) {
        EXPECT_EQ(syns[i].pi.tuple.lport, be16(i % 2 == 0 ? 80 : 81));
        srcs.insert(syns[i].pi.src_ip);
        // The MSS of the target's route, the timestamp offset of the address pair.
        EXPECT_EQ(syns[i].opts.mss, 1460);
    }
    EXPECT_EQ(srcs, (std::set<rte_be32_t>{be32(ip_first + 1), be32(ip_first + 2), be32(ip_first + 3)}));
}

// Same ISN, options and timestamp offset as connect() gives the same 4-tuple:
// the generator only chooses the pair.
TEST_F(generator, SynIsTheSameAsConnectsForTheSameTuple)
{
    g.total = 1;
    g.targets = {tuple4{0, be32(ip_far), 0, be16(80)}}; // via the gateway, route MTU 1400
    start_gen();
    tick_to(t_start + 1);
    poll();
    const seg a = one();
    EXPECT_EQ(a.opts.mss, 1360);
    const uint32_t off = isn.ts_offset(a.ours());
    EXPECT_EQ(a.opts.ts_val, now() + off);
    EXPECT_EQ(a.seq(), isn.isn(a.ours(), uint64_t(now()) * 1000000u));
    // connect() with the same source pair on a second engine.
    const tuple4 t = a.ours();
    gn.reset();
    eng.reset();
    start();
    tick_to(t_start + 1);
    connect(rte_be_to_cpu_32(t.raddr), rte_be_to_cpu_16(t.rport), 0, rte_be_to_cpu_32(t.laddr),
            rte_be_to_cpu_16(t.lport));
    const seg b = one();
    EXPECT_EQ(b.seq(), a.seq());
    EXPECT_EQ(b.opts.mss, a.opts.mss);
    EXPECT_EQ(b.opts.ts_val, a.opts.ts_val);
    EXPECT_EQ(b.opts.wscale, a.opts.wscale);
    EXPECT_EQ(b.opts.sack_ok, a.opts.sack_ok);
}

TEST_F(generator, UnroutableTargetCountsTowardTotalWithoutStalling)
{
    g.targets = {tuple4{0, be32(ip_nowhere), 0, be16(80)}};
    g.total = 3;
    start_gen();
    tick_to(t_start + 1);
    EXPECT_EQ(poll(), 3u);
    EXPECT_EQ(gcount(gen::ctr::unroutable), 3u);
    EXPECT_EQ(count(ctr::attempted), 0u);
    EXPECT_TRUE(gn->done());
    EXPECT_TRUE(events().empty());
    expect_clean();
}

// 16 ports, one address: the 17th try and after are no_port at once, with
// no work in the engine; pairs come back as their connections end.
TEST_F(generator, NoPortIsImmediateAndPairsComeBack)
{
    acfg.ports.lo = 40000;
    acfg.ports.hi = 40015;
    g.port_lo = 40000;
    g.port_hi = 40015;
    g.total = 20;
    g.burst = 20;
    g.close = close_mode::rst;
    start_gen();
    tick_to(t_start + 1);
    EXPECT_EQ(poll(), 20u);
    EXPECT_EQ(count(ctr::attempted), 16u);
    EXPECT_EQ(gcount(gen::ctr::no_port), 4u);
    EXPECT_EQ(count(ctr::no_port), 0u); // the engine was never asked
    EXPECT_EQ(gn->in_flight(), 16u);
    const std::vector<seg> syns = sent();
    ASSERT_EQ(syns.size(), 16u);
    std::set<uint16_t> ports;
    for (const seg& s : syns) {
        ports.insert(s.sport());
    }
    EXPECT_EQ(ports.size(), 16u);
    answer(syns); // established, RST: all 16 pairs free again
    discard_sent();
    EXPECT_EQ(gcount(gen::ctr::released), 16u);
    EXPECT_TRUE(gn->done());
}

TEST_F(generator, ChurnThroughFewPairsNeverCollides)
{
    g.port_lo = 40000;
    g.port_hi = 40003; // 4 pairs
    g.close = close_mode::rst;
    g.total = 400;
    g.burst = 4;
    start_gen();
    for (uint32_t ms = 1; gcount(gen::ctr::tried) < 400; ms++) {
        ASSERT_LT(ms, 2000u);
        tick_to(t_start + ms);
        poll();
        answer(sent());
        discard_sent();
    }
    EXPECT_EQ(count(ctr::established), 400u);
    EXPECT_EQ(gcount(gen::ctr::no_port), 0u);
    EXPECT_EQ(gcount(gen::ctr::pair_busy), 0u);
    EXPECT_TRUE(gn->done());
    expect_clean();
}

TEST_F(generator, SynTimeoutReleasesThePlace)
{
    g.total = 1;
    acfg.syn_retries = 0;
    start_gen();
    tick_to(t_start + 1);
    poll();
    discard_sent();
    tick_to(t_start + 1001);
    EXPECT_EQ(count(ctr::timed_out), 1u);
    EXPECT_EQ(gcount(gen::ctr::failed), 1u);
    EXPECT_TRUE(gn->done());
    EXPECT_TRUE(events().empty());
    expect_clean();
}

TEST_F(generator, BadConfigIsRefused)
{
    start();
    std::string err;
    gen::config b = g;
    b.burst = 0;
    EXPECT_FALSE(gen::generator().init(b, gen::env{eng.get(), g_routes, nullptr, &steer, 0}, err));
    EXPECT_FALSE(err.empty());
    b = g;
    b.laddrs = {be32(ipv4(10, 1, 1, 1))}; // not ours
    EXPECT_FALSE(gen::generator().init(b, gen::env{eng.get(), g_routes, nullptr, &steer, 0}, err));
    b = g;
    b.targets = {tuple4{0, be32(ip_peer), 0, 0}}; // no port
    EXPECT_FALSE(gen::generator().init(b, gen::env{eng.get(), g_routes, nullptr, &steer, 0}, err));
    b = g;
    b.port_lo = 50000;
    b.port_hi = 40000;
    EXPECT_FALSE(gen::generator().init(b, gen::env{eng.get(), g_routes, nullptr, &steer, 0}, err));
    EXPECT_FALSE(gen::generator().init(g, gen::env{eng.get(), g_routes, nullptr, &steer, 1}, err)); // lcore 1 of 1
}

} // namespace
} // namespace fg::tcp::atest
