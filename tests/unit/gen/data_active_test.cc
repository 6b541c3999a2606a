// The data path (stream.hh) on the active side: generator connections with
// an active_app that sends a request template when ESTABLISHED, counts the
// response and hands the connection back to the generator's close mode
// (lib/gen, as the engine's local application).
#include <string>
#include <vector>

#include "../tcp/active_harness.hh"
#include "gen/generator.hh"

namespace fg::tcp::atest {
namespace {

struct client_app : stream_app {
    uint32_t response_len = 5; // bytes that make a whole response
    uint32_t requests = 1;     // per connection
    uint32_t deadline_after = no_deadline;
    uint32_t got = 0;
    uint32_t done = 0;
    uint32_t sent = 0;
    uint32_t timeouts = 0;
    std::vector<stream_end> ends;

    void on_open(stream& s) override
    {
        s.send(1);
        sent++;
        s.t0() = s.now_us();
    }
    uint32_t on_data(stream& s, const uint8_t*, uint32_t n) override
    {
        got += n;
        if (got >= response_len) {
            got = 0;
            done++;
            if (s.bytes_queued() / 4 < requests) { // "REQ\n" is 4 bytes
                s.send(1);
                sent++;
                s.t0() = s.now_us();
            } else {
                s.finish();
            }
        }
        return n;
    }
    void on_peer_fin(stream& s) override { s.finish(); }
    uint32_t deadline_ms(stream& s) override
    {
        if (deadline_after == no_deadline) {
            return no_deadline;
        }
        const uint32_t age = (s.now_us() - s.t0()) / 1000;
        return age >= deadline_after ? 0 : deadline_after - age;
    }
    void on_deadline(stream& s) override
    {
        timeouts++;
        s.abort();
    }
    void on_end(stream&, stream_end why) override { ends.push_back(why); }
};

using gen::close_mode;

class data_active : public active {
protected:
    client_app app;
    std::string req = "REQ\n";
    tx_template t{reinterpret_cast<const uint8_t*>("REQ\n"), 4};
    gen::config g;
    steering steer{1};
    std::unique_ptr<gen::generator> gn;

    void SetUp() override
    {
        active::SetUp();
        g.targets = {tuple4{0, be32(ip_peer), 0, be16(peer_port)}};
        g.laddrs = {be32(ip_first)};
        g.cps = 1e6;
        g.burst = 1;
        g.total = 1;
        g.close = close_mode::rst;
        cfg.active_app = &app;
        cfg.templates = &t;
        cfg.n_templates = 1;
    }
    void TearDown() override
    {
        gn.reset();
        active::TearDown();
    }
    uint32_t poll() { return gn->poll(uint64_t(eng->now_ms()) * 1000000u); }
    uint64_t gcount(gen::ctr c) const { return gn->ctrs()[c]; }
    // The generator's one SYN, answered after `rtt_ms`; returns our first segment after it.
    seg open(uint32_t rtt_ms = 0)
    {
        start();
        gn = std::make_unique<gen::generator>();
        std::string err;
        EXPECT_TRUE(gn->init(g, gen::env{eng.get(), g_routes, nullptr, &steer, 0}, err)) << err;
        EXPECT_EQ(poll(), 0u); // starts the bucket
        tick_to(t_start + 1);
        EXPECT_EQ(poll(), 1u);
        syn = one();
        tick_to(t_start + 1 + rtt_ms);
        synack(syn, piss);
        return one();
    }
    void response(uint32_t seq_off, uint32_t len, uint8_t flags = th_ack | th_psh)
    {
        const net::tcp_options o = ts(peer_tsval + 1, 0);
        in(syn.ours(), flags, piss + 1 + seq_off, syn.seq() + 1 + 4 * app.sent, &o, len);
    }
    seg syn;
    uint32_t piss = 700000;
};

TEST_F(data_active, RequestCarriesTheHandshakeAck)
{
    const seg r = open();
    EXPECT_EQ(r.flags() & th_ack, th_ack);
    EXPECT_EQ(r.ack(), piss + 1); // ACKs the SYN-ACK: no separate pure ACK
    EXPECT_EQ(r.seq(), syn.seq() + 1);
    EXPECT_EQ(r.pi.payload_len, 4u);
    EXPECT_EQ(count(ctr::streams_opened), 1u);
    EXPECT_EQ(count(ctr::established), 1u);
    EXPECT_EQ(gn->in_flight(), 1u);
}

TEST_F(data_active, ResponseThenCloseModeRst)
{
    open();
    response(0, 5);
    const seg r = one(); // the close mode's RST; no ACK before it
    EXPECT_EQ(r.flags() & th_rst, th_rst);
    EXPECT_EQ(r.seq(), syn.seq() + 5);
    EXPECT_EQ(gcount(gen::ctr::closed_by_rst), 1u);
    ASSERT_EQ(app.ends.size(), 1u);
    EXPECT_EQ(app.ends[0], stream_end::finished);
    EXPECT_EQ(gn->in_flight(), 0u);
    EXPECT_TRUE(gn->done());
    expect_clean();
}

TEST_F(data_active, ResponseThenCloseModeFin)
{
    g.close = close_mode::fin;
    open();
    response(0, 3);
    EXPECT_EQ(one().ack(), piss + 4); // half a response: ACKed
    response(3, 2);
    const seg f = one();
    EXPECT_EQ(f.flags() & (th_fin | th_ack), th_fin | th_ack);
    EXPECT_EQ(f.ack(), piss + 6);
    EXPECT_EQ(f.seq(), syn.seq() + 5);
    const conn* c = find(syn.ours());
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->st, state::fin_wait_1);
    EXPECT_EQ(gn->in_flight(), 0u);
}

TEST_F(data_active, ResponseThenCloseModeHold)
{
    g.close = close_mode::hold;
    app.deadline_after = 10000;
    open();
    uint32_t exp = 0;
    const conn* c = find(syn.ours());
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(eng->timer_of(*c, exp)); // the request's RTO
    response(0, 5);
    EXPECT_EQ(one().ack(), piss + 6); // held: the response is ACKed, nothing else
    c = find(syn.ours());
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->st, state::established);
    EXPECT_FALSE(eng->timer_of(*c, exp)); // the stream's timers went with it: a held connection has none
    EXPECT_EQ(gn->in_flight(), 1u); // held counts until the hold ends
    ASSERT_EQ(app.ends.size(), 1u);
    EXPECT_EQ(app.ends[0], stream_end::finished);
}

TEST_F(data_active, ServerClosesFirst)
{
    g.close = close_mode::fin;
    open();
    response(0, 5, th_ack | th_psh | th_fin); // Connection: close, FIN with the last bytes
    const seg f = one(); // our FIN acknowledges theirs: LAST-ACK
    EXPECT_EQ(f.flags() & (th_fin | th_ack), th_fin | th_ack);
    EXPECT_EQ(f.ack(), piss + 1 + 5 + 1);
    const conn* c = find(syn.ours());
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->st, state::last_ack);
    const net::tcp_options o = ts(peer_tsval + 2, 0);
    in(syn.ours(), th_ack, piss + 7, syn.seq() + 6, &o);
    EXPECT_EQ(find(syn.ours()), nullptr);
    expect_clean();
}

TEST_F(data_active, KeepAliveRequestsInTurn)
{
    app.requests = 3;
    open();
    response(0, 5);
    seg r = one(); // the second request, right after the first response
    EXPECT_EQ(r.seq(), syn.seq() + 5);
    EXPECT_EQ(r.pi.payload_len, 4u);
    EXPECT_EQ(r.ack(), piss + 6);
    response(5, 5);
    r = one();
    EXPECT_EQ(r.seq(), syn.seq() + 9);
    response(10, 5);
    r = one();
    EXPECT_EQ(r.flags() & th_rst, th_rst);
    EXPECT_EQ(app.done, 3u);
    EXPECT_EQ(app.sent, 3u);
}

TEST_F(data_active, LostRequestResentAfterTheHandshakeRto)
{
    const seg r = open(20); // a 20 ms handshake: SRTT 20, RTTVAR 10
    tick_to(t_start + 21 + 219);
    EXPECT_TRUE(sent().empty());
    tick_to(t_start + 21 + 220); // 20 + max(200, 40)
    const seg again = one();
    EXPECT_EQ(again.seq(), r.seq());
    EXPECT_EQ(again.pi.payload_len, 4u);
    EXPECT_EQ(count(ctr::rto_expired), 1u);
}

TEST_F(data_active, ResponseDeadlineAborts)
{
    app.deadline_after = 300;
    open();
    tick_to(t_start + 1 + 299);
    discard_sent(); // the request's retransmission (RTO 1 s) is not due yet
    tick_to(t_start + 1 + 300);
    const seg r = one();
    EXPECT_EQ(r.flags() & th_rst, th_rst);
    EXPECT_EQ(app.timeouts, 1u);
    ASSERT_EQ(app.ends.size(), 1u);
    EXPECT_EQ(app.ends[0], stream_end::aborted);
    EXPECT_EQ(gn->in_flight(), 0u);
    expect_clean();
}

TEST_F(data_active, PeerResetReleasesTheGeneratorPlace)
{
    open();
    in(syn.ours(), th_rst, piss + 1, 0);
    ASSERT_EQ(app.ends.size(), 1u);
    EXPECT_EQ(app.ends[0], stream_end::reset);
    EXPECT_EQ(gn->in_flight(), 0u);
    expect_clean();
}

} // namespace
} // namespace fg::tcp::atest
