// The data path (stream.hh) on the passive side: a listener with
// accept_action::serve and a test app that answers each '\n'-terminated line
// with a template. Real mbufs, the engine's ms clock moved by hand.
// Covers: responses cut from the template (bytes, PSH, ACK piggybacked),
// the initial window and the peer's window, RTO (first unacked segment,
// backoff, give-up), partial ACKs after an RTO, RTT samples and the RTO they
// give, duplicate / out-of-order / overlapping segments, bytes the app
// leaves, FIN after data and the peer's FIN, zero-window probes, RST, abort.
#include <algorithm>
#include <string>
#include <vector>

#include "passive_harness.hh"
#include "tcp/connect.hh"

namespace fg::tcp::test {
namespace {

struct test_app : stream_app {
    std::string received;
    uint32_t consume_limit = UINT32_MAX; // bytes taken per on_data
    uint8_t tmpl = 1;                    // template answered per line
    bool close_after = false;            // close() after each answer
    bool close_on_fin = true;            // close() when the peer's FIN arrives
    uint32_t deadline = no_deadline;
    int opened = 0;
    int fins = 0;
    int deadlines = 0;
    int refused = 0;
    std::vector<stream_end> ends;

    void on_open(stream&) override { opened++; }
    uint32_t on_data(stream& s, const uint8_t* p, uint32_t n) override
    {
        n = std::min(n, consume_limit);
        for (uint32_t i = 0; i < n; i++) {
            received.push_back(char(p[i]));
            if (p[i] == '\n') {
                if (!s.send(tmpl)) {
                    refused++;
                }
                if (close_after) {
                    s.close();
                }
            }
        }
        return n;
    }
    void on_peer_fin(stream& s) override
    {
        fins++;
        if (close_on_fin) {
            s.close();
        }
    }
    uint32_t deadline_ms(stream&) override { return deadline; }
    void on_deadline(stream& s) override
    {
        deadlines++;
        s.abort();
    }
    void on_end(stream&, stream_end why) override { ends.push_back(why); }
};

class data_passive : public passive {
protected:
    test_app app;
    std::vector<std::string> bodies;
    std::vector<tx_template> tmpls;
    uint32_t ciss = 100000;
    uint32_t rcv = 0;       // client's next sequence number
    uint32_t snd0 = 0;      // server's first data sequence number
    uint32_t cts = 2000;    // client TSval
    uint32_t our_ts = 0;    // last TSval the server sent
    bool ts = true;
    active_config ac;

    void serve(std::vector<std::string> b)
    {
        bodies = std::move(b);
        for (const std::string& s : bodies) {
            tmpls.push_back(tx_template{reinterpret_cast<const uint8_t*>(s.data()), uint32_t(s.size())});
        }
        cfg.passive_app = &app;
        cfg.templates = tmpls.data();
        cfg.n_templates = uint32_t(tmpls.size());
        lopts.on_accept = accept_action::serve;
        ac.clock = active_clock::engine_ms; // stream t0 stamps and samples on the engine's clock
        cfg.active = &ac;
        start();
    }

    net::tcp_options copts()
    {
        net::tcp_options o;
        if (ts) {
            o.has_ts = true;
            o.ts_val = ++cts;
            o.ts_ecr = our_ts;
        }
        return o;
    }

    // SYN, SYN-ACK, third ACK: served at once (no accept event).
    void open(uint16_t window = 64240, bool ws = true)
    {
        const seg sa = syn(40000, ciss, client_syn_opts(true, ws, true, ts));
        our_ts = sa.opts.ts_val;
        rcv = ciss + 1;
        snd0 = sa.seq() + 1;
        const net::tcp_options o = copts();
        in(frame(40000, th_ack, rcv, snd0, &o, 0, window));
        EXPECT_TRUE(sent().empty());
        EXPECT_EQ(app.opened, 1);
        ASSERT_NE(c(), nullptr);
        EXPECT_EQ(c()->st, state::established);
    }
    const conn* c() const { return find(40000); }

    // A client segment carrying `data` at `seq`.
    void data(uint32_t seq, const std::string& d, uint8_t flags = th_ack | th_psh, uint32_t ack = 0,
              uint16_t window = 64240)
    {
        const net::tcp_options o = copts();
        rte_mbuf* m = frame(40000, flags, seq, ack != 0 ? ack : snd0, &o, uint32_t(d.size()), window);
        uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
        const uint32_t hdr = m->data_len - uint32_t(d.size());
        std::memcpy(p + hdr, d.data(), d.size());
        auto* ip = reinterpret_cast<rte_ipv4_hdr*>(p + sizeof(rte_ether_hdr));
        net::set_tcp_cksum(ip, reinterpret_cast<rte_tcp_hdr*>(p + sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)));
        in(m);
    }
    void ack(uint32_t a, uint16_t window = 64240, uint8_t flags = th_ack)
    {
        const net::tcp_options o = copts();
        in(frame(40000, flags, rcv, a, &o, 0, window));
    }

    // The payload of a segment we sent.
    static std::string payload(const seg& s)
    {
        const uint32_t off = uint32_t(s.pi.l2_len) + s.pi.l3_len + s.pi.l4_len;
        return std::string(s.bytes.begin() + off, s.bytes.begin() + off + s.pi.payload_len);
    }
    void note(const std::vector<seg>& v)
    {
        for (const seg& s : v) {
            if (s.opts.has_ts) {
                our_ts = s.opts.ts_val;
            }
        }
    }
};

std::string body_of(size_t n)
{
    std::string b;
    for (size_t i = 0; i < n; i++) {
        b.push_back(char('a' + i % 26));
    }
    return b;
}

TEST_F(data_passive, ResponseCutFromTheTemplate)
{
    serve({body_of(3000)});
    open();
    data(rcv, "GET\n");
    rcv += 4;
    const std::vector<seg> v = sent();
    note(v);
    ASSERT_EQ(v.size(), 3u); // 1448 + 1448 + 104: no pure ACK, the response carries it
    std::string all;
    uint32_t seq = snd0;
    for (const seg& s : v) {
        EXPECT_TRUE(s.tcp_cksum_ok);
        EXPECT_EQ(s.seq(), seq);
        EXPECT_EQ(s.ack(), rcv);
        EXPECT_EQ(s.flags() & th_ack, th_ack);
        EXPECT_TRUE(s.opts.has_ts);
        EXPECT_EQ(s.opts.ts_ecr, cts);
        EXPECT_LE(s.pi.payload_len, 1448u);
        seq += s.pi.payload_len;
        all += payload(s);
    }
    EXPECT_EQ(all, bodies[0]);
    EXPECT_EQ(v[0].pi.payload_len, 1448u);
    EXPECT_EQ(v[2].flags() & th_psh, th_psh);
    EXPECT_EQ(v[0].flags() & th_psh, 0);
    EXPECT_EQ(v[0].pi.window, v[2].pi.window); // a fixed advertised window
    EXPECT_EQ(count(ctr::data_segments_sent), 3u);
    EXPECT_EQ(count(ctr::data_bytes_sent), 3000u);
    EXPECT_EQ(count(ctr::rx_bytes_delivered), 4u);
    EXPECT_EQ(app.received, "GET\n");
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*c(), exp));
    EXPECT_EQ(exp, t_start + 1000); // RFC 6298 2.1: 1 s before any RTT sample
    ack(snd0 + 3000);
    EXPECT_TRUE(sent().empty());
    EXPECT_FALSE(eng->timer_of(*c(), exp)); // 5.2: nothing in flight, no app deadline
}

TEST_F(data_passive, InitialWindowBoundsTheFlight)
{
    serve({body_of(20 * 1448)});
    open();
    data(rcv, "x\n");
    rcv += 2;
    std::vector<seg> v = sent();
    ASSERT_EQ(v.size(), 10u); // RFC 6928
    ack(snd0 + 5 * 1448);     // five leave the flight: five more go
    v = sent();
    ASSERT_EQ(v.size(), 5u);
    EXPECT_EQ(v[0].seq(), snd0 + 10 * 1448);
    ack(snd0 + 15 * 1448);
    v = sent();
    ASSERT_EQ(v.size(), 5u);
    ack(snd0 + 15 * 1448);
    EXPECT_TRUE(sent().empty()); // a duplicate ACK sends nothing
    ack(snd0 + 20 * 1448);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(c()->snd_nxt, snd0 + 20 * 1448);
}

TEST_F(data_passive, PeerWindowBoundsTheFlight)
{
    serve({body_of(5000)});
    open(3000, false); // no window scaling: the window field is bytes
    data(rcv, "x\n", th_ack | th_psh, 0, 3000);
    rcv += 2;
    std::vector<seg> v = sent();
    ASSERT_EQ(v.size(), 2u); // 1448 + 1448 (2896 <= 3000); no 104-byte runt while data waits (SWS)
    ack(snd0 + 1448, 3000);
    v = sent();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].seq(), snd0 + 2896);
    EXPECT_EQ(v[0].pi.payload_len, 1448u);
    ack(snd0 + 4344, 3000);
    v = sent();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].pi.payload_len, 5000u - 4344u);
}

TEST_F(data_passive, RtoResendsTheFirstSegmentAndBacksOff)
{
    serve({body_of(3000)});
    open();
    data(rcv, "x\n");
    rcv += 2;
    const std::vector<seg> first = sent();
    ASSERT_EQ(first.size(), 3u);
    tick_to(t_start + 999);
    EXPECT_TRUE(sent().empty());
    tick_to(t_start + 1000);
    std::vector<seg> v = sent();
    ASSERT_EQ(v.size(), 1u); // RFC 6298 5.4: only the earliest unacknowledged segment
    EXPECT_EQ(v[0].seq(), snd0);
    EXPECT_EQ(payload(v[0]), payload(first[0])); // from the template, byte for byte
    EXPECT_EQ(count(ctr::rto_expired), 1u);
    tick_to(t_start + 1000 + 1999);
    EXPECT_TRUE(sent().empty());
    tick_to(t_start + 1000 + 2000); // 5.5: doubled
    v = sent();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].seq(), snd0);
    EXPECT_EQ(count(ctr::rto_expired), 2u);
    // A partial ACK: the next hole goes at once; the rest when it is ACKed.
    ack(snd0 + 1448);
    v = sent();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].seq(), snd0 + 1448);
    EXPECT_EQ(payload(v[0]), payload(first[1]));
    EXPECT_EQ(count(ctr::partial_ack_retransmits), 1u);
    ack(snd0 + 2896);
    v = sent();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].seq(), snd0 + 2896);
    EXPECT_EQ(payload(v[0]), payload(first[2]));
    ack(snd0 + 3000);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(c()->retries, 0);
    EXPECT_EQ(count(ctr::data_retransmits), 4u);
}

TEST_F(data_passive, TimestampRttSampleSetsTheRto)
{
    serve({"response\n"});
    open();
    data(rcv, "a\n");
    rcv += 2;
    note(sent());
    tick_to(t_start + 30);
    ack(snd0 + 9); // TSecr echoes the response's TSval: a 30 ms sample
    // SRTT 30, RTTVAR 15: RTO = 30 + max(200, 60) = 230 ms (Linux's floor where RFC 6298 has 1 s).
    data(rcv, "b\n", th_ack | th_psh, snd0 + 9);
    rcv += 2;
    ASSERT_EQ(sent().size(), 1u);
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*c(), exp));
    EXPECT_EQ(exp, t_start + 30 + 230);
}

TEST_F(data_passive, NoTimestampsFlightTimedFromT0)
{
    ts = false;
    serve({"response\n"});
    open();
    data(rcv, "a\n");
    rcv += 2;
    ASSERT_EQ(sent().size(), 1u);
    tick_to(t_start + 40);
    ack(snd0 + 9); // the whole flight ACKed, nothing resent: a 40 ms sample (engine clock in us)
    data(rcv, "b\n", th_ack | th_psh, snd0 + 9);
    rcv += 2;
    ASSERT_EQ(sent().size(), 1u);
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*c(), exp));
    EXPECT_EQ(exp, t_start + 40 + 240); // 40 + max(200, 4 * 20)
}

TEST_F(data_passive, KarnNoSampleFromARetransmittedFlight)
{
    ts = false;
    serve({"response\n"});
    open();
    data(rcv, "a\n");
    rcv += 2;
    sent();
    tick_to(t_start + 1000);
    ASSERT_EQ(sent().size(), 1u);
    tick_to(t_start + 1010);
    ack(snd0 + 9);
    data(rcv, "b\n", th_ack | th_psh, snd0 + 9);
    ASSERT_EQ(sent().size(), 1u);
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*c(), exp));
    EXPECT_EQ(exp, t_start + 1010 + 1000); // still no sample: the initial RTO
}

TEST_F(data_passive, DuplicateSegmentAckedNotDelivered)
{
    serve({"ok\n"});
    open();
    data(rcv, "a\n");
    EXPECT_EQ(sent().size(), 1u);
    data(rcv, "a\n", th_ack | th_psh, snd0 + 3);
    const seg r = one();
    EXPECT_EQ(r.flags(), th_ack);
    EXPECT_EQ(r.ack(), rcv + 2);
    EXPECT_EQ(r.pi.payload_len, 0u);
    EXPECT_EQ(app.received, "a\n");
    EXPECT_EQ(count(ctr::out_of_window), 1u); // 3.10.7.4 first: unacceptable, ACKed
}

TEST_F(data_passive, OutOfOrderDroppedThenResent)
{
    serve({"ok\n"});
    open();
    data(rcv + 3, "def\n"); // a hole before it
    seg r = one();
    EXPECT_EQ(r.flags(), th_ack); // a duplicate ACK: where we are
    EXPECT_EQ(r.ack(), rcv);
    EXPECT_EQ(count(ctr::rx_out_of_order), 1u);
    EXPECT_TRUE(app.received.empty());
    EXPECT_EQ(c()->rcv_nxt, rcv);
    data(rcv, "abc");
    r = one();
    EXPECT_EQ(r.ack(), rcv + 3);
    data(rcv + 3, "def\n"); // the peer sends it again
    r = one();
    EXPECT_EQ(r.pi.payload_len, 3u); // the answer
    EXPECT_EQ(r.ack(), rcv + 7);
    EXPECT_EQ(app.received, "abcdef\n");
}

TEST_F(data_passive, OverlappingSegmentOnlyNewBytes)
{
    serve({"ok\n"});
    open();
    data(rcv, "GET /ab");
    EXPECT_EQ(one().ack(), rcv + 7);
    data(rcv + 4, "/abc\n"); // starts before RCV.NXT, ends after it
    const seg r = one();
    EXPECT_EQ(r.ack(), rcv + 9);
    EXPECT_EQ(app.received, "GET /abc\n");
}

TEST_F(data_passive, BytesTheAppLeavesAreNotAcked)
{
    serve({"ok\n"});
    app.consume_limit = 4;
    open();
    data(rcv, "abcdefgh");
    const seg r = one();
    EXPECT_EQ(r.ack(), rcv + 4);
    EXPECT_EQ(app.received, "abcd");
    EXPECT_EQ(count(ctr::rx_bytes_deferred), 4u);
    data(rcv + 4, "efgh");
    EXPECT_EQ(one().ack(), rcv + 8);
    EXPECT_EQ(app.received, "abcdefgh");
}

TEST_F(data_passive, PipelinedRequestsQueueInstances)
{
    serve({"0123456789\n"});
    open();
    data(rcv, "a\nb\nc\n");
    const seg r = one(); // 3 instances, 33 bytes: one segment
    EXPECT_EQ(payload(r), "0123456789\n0123456789\n0123456789\n");
    EXPECT_EQ(r.ack(), rcv + 6);
}

TEST_F(data_passive, OtherTemplateWaitsForTheFirst)
{
    serve({"first\n", "second\n"});
    open();
    data(rcv, "a\n");
    ASSERT_EQ(sent().size(), 1u);
    app.tmpl = 2;
    data(rcv + 2, "b\n");
    const seg r = one();
    EXPECT_EQ(r.pi.payload_len, 0u); // refused while "first" is unacknowledged
    EXPECT_EQ(app.refused, 1);
    EXPECT_EQ(count(ctr::stream_send_refused), 1u);
}

TEST_F(data_passive, CloseSendsFinOnTheLastSegment)
{
    serve({body_of(2000)});
    app.close_after = true;
    open();
    data(rcv, "x\n");
    rcv += 2;
    const std::vector<seg> v = sent();
    note(v);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].flags() & th_fin, 0);
    EXPECT_EQ(v[1].flags() & th_fin, th_fin);
    EXPECT_EQ(c()->st, state::fin_wait_1);
    EXPECT_EQ(c()->snd_nxt, snd0 + 2001);
    ack(snd0 + 2000); // data ACKed, not the FIN
    EXPECT_EQ(c()->st, state::fin_wait_1);
    EXPECT_TRUE(app.ends.empty());
    tick_to(t_start + 1000);
    seg r = one(); // the FIN alone again
    EXPECT_EQ(r.flags() & th_fin, th_fin);
    EXPECT_EQ(r.seq(), snd0 + 2000);
    EXPECT_EQ(r.pi.payload_len, 0u);
    ack(snd0 + 2001);
    EXPECT_EQ(c()->st, state::fin_wait_2);
    ASSERT_EQ(app.ends.size(), 1u);
    EXPECT_EQ(app.ends[0], stream_end::closed);
    const net::tcp_options o = copts();
    in(frame(40000, th_fin | th_ack, rcv, snd0 + 2001, &o));
    r = one();
    EXPECT_EQ(r.ack(), rcv + 1);
    EXPECT_EQ(c()->st, state::time_wait);
}

TEST_F(data_passive, PeerFinWithTheRequest)
{
    serve({"bye\n"});
    open();
    data(rcv, "x\n", th_ack | th_psh | th_fin);
    rcv += 3;
    seg r = one(); // the response, our FIN, the ACK of theirs: one segment
    EXPECT_EQ(payload(r), "bye\n");
    EXPECT_EQ(r.flags() & (th_fin | th_ack), th_fin | th_ack);
    EXPECT_EQ(r.ack(), rcv);
    EXPECT_EQ(app.fins, 1);
    EXPECT_EQ(c()->st, state::last_ack);
    ack(snd0 + 5);
    EXPECT_EQ(c(), nullptr);
    ASSERT_EQ(app.ends.size(), 1u);
    EXPECT_EQ(app.ends[0], stream_end::closed);
    expect_clean();
}

TEST_F(data_passive, FinBeyondRcvNxtIsNotTaken)
{
    serve({"ok\n"});
    app.close_on_fin = false;
    open();
    data(rcv + 5, "late", th_ack | th_fin);
    const seg r = one();
    EXPECT_EQ(r.ack(), rcv);
    EXPECT_EQ(app.fins, 0);
    EXPECT_EQ(c()->st, state::established);
    const net::tcp_options o = copts();
    in(frame(40000, th_fin | th_ack, rcv, snd0, &o));
    EXPECT_EQ(one().ack(), rcv + 1);
    EXPECT_EQ(app.fins, 1);
    EXPECT_EQ(c()->st, state::close_wait);
}

TEST_F(data_passive, ZeroWindowIsProbed)
{
    serve({"response\n"});
    open(0);
    data(rcv, "x\n", th_ack | th_psh, 0, 0);
    rcv += 2;
    seg r = one(); // nothing fits: a pure ACK
    EXPECT_EQ(r.pi.payload_len, 0u);
    tick_to(t_start + 1000);
    r = one();
    EXPECT_EQ(r.seq(), snd0 - 1); // Linux tcp_xmit_probe_skb
    EXPECT_EQ(r.pi.payload_len, 0u);
    EXPECT_EQ(count(ctr::window_probes), 1u);
    ack(snd0, 64240); // the window opens
    r = one();
    EXPECT_EQ(payload(r), "response\n");
}

TEST_F(data_passive, GivesUpAfterDataRetries)
{
    cfg.data_retries = 2;
    serve({"response\n"});
    open();
    data(rcv, "x\n");
    ASSERT_EQ(sent().size(), 1u);
    tick_to(t_start + 1000);
    tick_to(t_start + 3000);
    EXPECT_EQ(sent().size(), 2u);
    tick_to(t_start + 7000);
    EXPECT_TRUE(sent().empty()); // Linux gives up without a segment
    EXPECT_EQ(c(), nullptr);
    EXPECT_EQ(count(ctr::data_timeouts), 1u);
    ASSERT_EQ(app.ends.size(), 1u);
    EXPECT_EQ(app.ends[0], stream_end::timeout);
    expect_clean();
}

TEST_F(data_passive, RstEndsTheStream)
{
    serve({"ok\n"});
    open();
    in(frame(40000, th_rst, rcv, 0));
    EXPECT_EQ(c(), nullptr);
    ASSERT_EQ(app.ends.size(), 1u);
    EXPECT_EQ(app.ends[0], stream_end::reset);
    expect_clean();
}

TEST_F(data_passive, DeadlineAbortSendsRst)
{
    serve({"ok\n"});
    app.deadline = 50;
    open();
    uint32_t exp = 0;
    ASSERT_TRUE(eng->timer_of(*c(), exp));
    EXPECT_EQ(exp, t_start + 50);
    app.deadline = 0;
    tick_to(t_start + 50);
    const seg r = one();
    EXPECT_EQ(r.flags() & th_rst, th_rst);
    EXPECT_EQ(r.seq(), snd0);
    EXPECT_EQ(app.deadlines, 1);
    ASSERT_EQ(app.ends.size(), 1u);
    EXPECT_EQ(app.ends[0], stream_end::aborted);
    expect_clean();
}

TEST_F(data_passive, RequestOnTheThirdAck)
{
    serve({"hello\n"});
    const seg sa = syn(40000, ciss, client_syn_opts(true, true, true, true));
    rcv = ciss + 1;
    snd0 = sa.seq() + 1;
    our_ts = sa.opts.ts_val;
    data(rcv, "GET\n", th_ack | th_psh, snd0);
    const seg r = one();
    EXPECT_EQ(payload(r), "hello\n");
    EXPECT_EQ(r.ack(), rcv + 4);
    EXPECT_EQ(app.opened, 1);
}

TEST_F(data_passive, HoldListenerWithoutAppDiscardsAsBefore)
{
    // A serve listener on an engine without passive_app behaves as hold.
    lopts.on_accept = accept_action::serve;
    start();
    const seg sa = syn(40000, ciss);
    in(frame(40000, th_ack, ciss + 1, sa.seq() + 1));
    EXPECT_TRUE(sent().empty());
    in(frame(40000, th_ack | th_psh, ciss + 1, sa.seq() + 1, nullptr, 10));
    EXPECT_EQ(one().ack(), ciss + 11);
    EXPECT_EQ(count(ctr::payload_bytes_discarded), 10u);
    EXPECT_EQ(count(ctr::streams_opened), 0u);
}

} // namespace
} // namespace fg::tcp::test
