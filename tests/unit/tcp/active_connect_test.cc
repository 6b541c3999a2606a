// The connect path: route and source address, the SYN's options and
// checksums, ISN and timestamp offset, the sharded port allocator and its
// reuse rules (TIME-WAIT, tcp_tw_reuse), running out of ports, and the
// unreachable cases (no route, neighbour failed).
#include <cerrno>
#include <set>

#include "active_harness.hh"

namespace fg::tcp::atest {
namespace {

using connect_path = active;

constexpr uint32_t piss = 900000;

TEST_F(connect_path, SynCarriesRouteSourceMssWsSackTsAndValidChecksums)
{
    start();
    connect(ip_peer, peer_port);
    const seg s = one();
    EXPECT_EQ(s.kind, net::pkt_kind::tcp); // classify() with UNKNOWN offload flags checked both sums
    EXPECT_TRUE(s.ip_cksum_ok);
    EXPECT_TRUE(s.tcp_cksum_ok);
    EXPECT_EQ(s.flags(), th_syn);
    EXPECT_EQ(s.ack(), 0u);
    EXPECT_EQ(s.pi.window, 65535u);
    EXPECT_EQ(s.ttl, 64u);
    EXPECT_TRUE(s.df);
    const route::route_result r = g_routes->lookup(be32(ip_peer));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(s.pi.src_ip, r.src);
    EXPECT_EQ(s.pi.dst_ip, be32(ip_peer));
    EXPECT_EQ(s.pi.tuple.lport, be16(peer_port));
    EXPECT_TRUE(s.opts.has_mss);
    EXPECT_EQ(s.opts.mss, 1460u); // MTU 1500 - 40
    EXPECT_TRUE(s.opts.has_wscale);
    EXPECT_EQ(s.opts.wscale, 7u);
    EXPECT_TRUE(s.opts.sack_ok);
    EXPECT_TRUE(s.opts.has_ts);
    EXPECT_EQ(s.opts.ts_ecr, 0u);
    EXPECT_EQ(s.opts.ts_val, t_start + isn.ts_offset(s.ours()));
    EXPECT_EQ(count(ctr::attempted), 1u);
    const uint16_t port = s.sport();
    EXPECT_GE(port, 32768u);
    EXPECT_LE(port, 60999u);
    const conn* c = find(s.ours());
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->st, state::syn_sent);
}

TEST_F(connect_path, MssComesFromTheRouteMtuAndIsClampedByOurs)
{
    start();
    connect(ip_far);
    const seg far = one();
    EXPECT_EQ(far.opts.mss, 1360u); // route MTU 1400 - 40
    EXPECT_EQ(far.pi.src_ip, g_routes->lookup(be32(ip_far)).src);
    eng.reset();
    cfg.opts.mss = 1200;
    start();
    connect(ip_peer);
    EXPECT_EQ(one().opts.mss, 1200u);
}

TEST_F(connect_path, OptionsOffOnlyMss)
{
    cfg.opts.window_scaling = false;
    cfg.opts.sack = false;
    cfg.opts.timestamps = false;
    start();
    const seg s = connect_syn();
    EXPECT_TRUE(s.opts.has_mss);
    EXPECT_FALSE(s.opts.has_wscale);
    EXPECT_FALSE(s.opts.sack_ok);
    EXPECT_FALSE(s.opts.has_ts);
}

// RFC 6528: the engine's ISN is isn_generator's keyed hash of the 4-tuple
// plus the clock (its properties are tested in unit-tcp-alg).
TEST_F(connect_path, IsnIsTheKeyedHashOfTheTuplePlusTheClock)
{
    start();
    const seg a = connect_syn();
    const seg b = connect_syn();
    EXPECT_EQ(a.seq(), isn.isn(a.ours(), uint64_t(t_start) * 1000000u));
    EXPECT_EQ(b.seq(), isn.isn(b.ours(), uint64_t(t_start) * 1000000u));
    EXPECT_NE(a.seq(), b.seq()); // per tuple
    tick_to(t_start + 1500);
    discard_sent(); // a's and b's SYN retransmissions
    const seg c = connect_syn();
    EXPECT_EQ(c.seq(), isn.isn(c.ours(), uint64_t(t_start + 1500) * 1000000u)); // advances with time
    // Another secret, another ISN.
    const isn_generator other{siphash_key{{1, 2}}, siphash_key{{3, 4}}};
    EXPECT_NE(c.seq(), other.isn(c.ours(), uint64_t(t_start + 1500) * 1000000u));
}

// The allocator hands out only 4-tuples this lcore owns under the steering
// function, so the SYN-ACK comes back here.
TEST_F(connect_path, PortsAreThoseThisLcoreOwns)
{
    const steering st(2);
    acfg.steer = &st;
    cfg.n_lcores = 2;
    for (uint16_t lc = 0; lc < 2; lc++) {
        cfg.lcore = lc;
        start();
        for (uint16_t i = 0; i < 40; i++) {
            connect(ip_peer, uint16_t(1000 + i));
            const seg s = one();
            EXPECT_EQ(st.owner(s.ours()), lc);
        }
        EXPECT_GT(eng->active_side()->ports.stats().not_owned, 0u);
        eng.reset();
    }
}

TEST_F(connect_path, ExplicitLocalPortIsUsedOnceAndOnlyIfOwned)
{
    start();
    connect(ip_peer, peer_port, 1, ip_first, 45000);
    const seg s = one();
    EXPECT_EQ(s.sport(), 45000u);
    connect(ip_peer, peer_port, 2, ip_first, 45000); // the 4-tuple is busy
    EXPECT_TRUE(sent().empty());
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::no_port);
    EXPECT_EQ(e.error, EADDRNOTAVAIL);
    EXPECT_EQ(e.user, 2u);
}

// "exactly 16 connections, then no_port, no stall".
TEST_F(connect_path, SixteenPortRangeGivesSixteenThenNoPort)
{
    acfg.ports.lo = 40000;
    acfg.ports.hi = 40015;
    start();
    std::set<uint16_t> ports;
    for (uint32_t i = 0; i < 16; i++) {
        connect(ip_peer);
        const seg s = one();
        EXPECT_GE(s.sport(), 40000u);
        EXPECT_LE(s.sport(), 40015u);
        ports.insert(s.sport());
    }
    EXPECT_EQ(ports.size(), 16u);
    EXPECT_TRUE(events().empty());
    connect(ip_peer, peer_port, 0xabc);
    EXPECT_TRUE(sent().empty());
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::no_port);
    EXPECT_EQ(e.error, EADDRNOTAVAIL);
    EXPECT_EQ(e.user, 0xabcu);
    EXPECT_EQ(e.tuple.raddr, be32(ip_peer));
    EXPECT_EQ(eng->find(e.h), nullptr);
    EXPECT_EQ(count(ctr::no_port), 1u);
    EXPECT_EQ(count(ctr::attempted), 16u);
    EXPECT_EQ(eng->conns_in_use(), 16u);
    EXPECT_EQ(eng->active_side()->ports.stats().exhausted, 1u);
}

// Uniqueness is per 4-tuple: a port in use towards one destination is free
// towards another.
TEST_F(connect_path, SamePortForADifferentDestination)
{
    acfg.ports.lo = 40000;
    acfg.ports.hi = 40001;
    start();
    connect(ip_peer, 80);
    connect(ip_peer, 80);
    EXPECT_EQ(sent().size(), 2u);
    connect(ip_peer, 80);
    EXPECT_EQ(one_event().type, event_type::no_port);
    connect(ip_peer, 81);
    const seg s = one();
    EXPECT_TRUE(s.sport() == 40000 || s.sport() == 40001);
    EXPECT_TRUE(events().empty());
}

// Ports bound by a listener are skipped (Linux inet_hash_connect).
TEST_F(connect_path, ListeningPortIsSkipped)
{
    acfg.ports.lo = 40000;
    acfg.ports.hi = 40001;
    start();
    int rc = 0;
    std::string err;
    lst = listen(lt, reg, 0, be16(40000), listen_options{}, 1, rc, err);
    ASSERT_NE(lst, nullptr) << err;
    connect(ip_peer);
    EXPECT_EQ(one().sport(), 40001u);
    connect(ip_peer);
    EXPECT_EQ(one_event().type, event_type::no_port);
}

// A TIME-WAIT 4-tuple is busy until it expires; then the port is free again.
TEST_F(connect_path, TimeWaitHoldsThePortUntilItExpires)
{
    acfg.ports.lo = 40000;
    acfg.ports.hi = 40001;
    acfg.time_wait_ms = 10000;
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1);
    discard_sent();
    (void)events();
    ASSERT_EQ(find(c.t)->st, state::time_wait);
    connect(ip_peer); // takes the other port
    const seg other = one();
    EXPECT_NE(other.ours(), c.t);
    connect(ip_peer);
    EXPECT_EQ(one_event().type, event_type::no_port);
    tick_to(t_start + 10000);
    discard_sent(); // the other SYN's retransmissions
    EXPECT_EQ(find(c.t), nullptr);
    connect(ip_peer);
    const seg again = one();
    EXPECT_EQ(again.ours(), c.t);
    EXPECT_EQ(again.seq(), isn.isn(c.t, uint64_t(t_start + 10000) * 1000000u));
    EXPECT_EQ(count(ctr::time_wait_reused), 0u);
}

// Linux tcp_tw_reuse=1 (tcp_twsk_unique): with timestamps, and the peer's
// last TSval at least 1 s old, the TIME-WAIT 4-tuple is taken over with
// write_seq = tw_snd_nxt + 65535 + 2.
TEST_F(connect_path, TwReuseWithTimestampsAfterOneSecond)
{
    acfg.ports.lo = 40000;
    acfg.ports.hi = 40001;
    acfg.tw_reuse = true;
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    net::tcp_options o = ts(peer_tsval + 1, fin.opts.ts_val);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1, &o);
    discard_sent();
    (void)events();
    const uint32_t tw_snd_nxt = find(c.t)->snd_nxt;
    EXPECT_EQ(tw_snd_nxt, fin.seq() + 1);
    connect(ip_peer);
    (void)one(); // the other port
    tick_to(t_start + 999);
    connect(ip_peer);
    EXPECT_EQ(one_event().type, event_type::no_port); // not yet 1 s
    tick_to(t_start + 1000);
    discard_sent(); // the other SYN's retransmission
    connect(ip_peer, peer_port, 42);
    const seg s = one();
    EXPECT_EQ(s.ours(), c.t);
    EXPECT_EQ(s.flags(), th_syn);
    EXPECT_EQ(s.seq(), tw_snd_nxt + 65535u + 2u);
    EXPECT_EQ(count(ctr::time_wait_reused), 1u);
    EXPECT_EQ(eng->active_side()->ports.stats().tw_reused, 1u);
    const conn* n = find(c.t);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->st, state::syn_sent);
    EXPECT_EQ(eng->find(c.h), nullptr); // the old handle is dead
    EXPECT_EQ(eng->conns_in_use(), 2u);
    EXPECT_EQ(eng->timers_armed(), 2u);
    EXPECT_EQ(tw_reuse_isn(0xffffffffu - 65536u), 1u); // never 0
}

TEST_F(connect_path, TwReuseNeedsTimestamps)
{
    acfg.ports.lo = 40000;
    acfg.ports.hi = 40001;
    acfg.tw_reuse = true;
    start();
    open_conn c;
    c.syn = connect_syn();
    c.t = c.syn.ours();
    synack(c.syn, piss, peer_opts(true, true, /*ts=*/false));
    discard_sent();
    c.h = one_event().h;
    close(c.h);
    const seg fin = one();
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1);
    discard_sent();
    (void)events();
    connect(ip_peer);
    (void)one();
    tick_to(t_start + 5000);
    connect(ip_peer);
    EXPECT_EQ(one_event().type, event_type::no_port);
    EXPECT_EQ(count(ctr::time_wait_reused), 0u);
}

TEST_F(connect_path, TwReuseOffNeverReuses)
{
    acfg.ports.lo = 40000;
    acfg.ports.hi = 40001;
    start();
    open_conn c;
    const seg fin = close_after_establish(c);
    net::tcp_options o = ts(peer_tsval + 1, fin.opts.ts_val);
    in(c.t, th_fin | th_ack, piss + 1, fin.seq() + 1, &o);
    connect(ip_peer);
    discard_sent();
    (void)events();
    tick_to(t_start + 5000);
    connect(ip_peer);
    EXPECT_EQ(one_event().type, event_type::no_port);
}

TEST_F(connect_path, NoRouteIsUnreachableAtOnce)
{
    start();
    connect(ip_nowhere, peer_port, 3);
    EXPECT_TRUE(sent().empty());
    event e = one_event();
    EXPECT_EQ(e.type, event_type::unreachable);
    EXPECT_EQ(e.error, ENETUNREACH);
    EXPECT_EQ(e.user, 3u);
    connect(ip_first + 3); // one of our own addresses: no loopback here
    e = one_event();
    EXPECT_EQ(e.type, event_type::unreachable);
    EXPECT_EQ(e.error, ENETUNREACH);
    connect(ip_peer, peer_port, 0, ipv4(10, 9, 9, 9)); // bound source not ours
    e = one_event();
    EXPECT_EQ(e.type, event_type::unreachable);
    EXPECT_EQ(e.error, EADDRNOTAVAIL);
    EXPECT_EQ(count(ctr::unreachable), 3u);
    EXPECT_EQ(count(ctr::attempted), 0u);
    expect_clean();
}

TEST_F(connect_path, BoundSourceAddressIsUsed)
{
    start();
    connect(ip_peer, peer_port, 0, ip_first + 7);
    EXPECT_EQ(one().pi.src_ip, be32(ip_first + 7));
}

// The neighbour of a queued SYN failed: the lcore loop hands the frame back
// through l2_failed(), the connection ends with EHOSTUNREACH.
std::vector<rte_mbuf*>* g_l2_frames = nullptr;
void capture_l2(void* ctx, rte_mbuf* m, const tuple4& t)
{
    (void)ctx;
    (void)t;
    g_l2_frames->push_back(m);
}

TEST_F(connect_path, NeighbourFailureIsUnreachable)
{
    std::vector<rte_mbuf*> frames;
    g_l2_frames = &frames;
    cfg.l2_send = capture_l2;
    start();
    connect(ip_peer, peer_port, 11);
    EXPECT_TRUE(sent().empty()); // the SYN went to the L2 hook
    ASSERT_EQ(frames.size(), 1u);
    const seg s = classify_seg(frames[0]);
    EXPECT_EQ(s.flags(), th_syn);
    eng->l2_failed(frames[0]);
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::unreachable);
    EXPECT_EQ(e.error, EHOSTUNREACH);
    EXPECT_EQ(e.user, 11u);
    EXPECT_EQ(e.tuple, s.ours());
    EXPECT_EQ(count(ctr::unreachable), 1u);
    EXPECT_EQ(count(ctr::no_neighbour), 1u);
    expect_clean();

    // A frame of a connection that is no longer in SYN-SENT is just freed.
    frames.clear();
    connect(ip_peer);
    ASSERT_EQ(frames.size(), 1u);
    rte_mbuf* syn = frames[0];
    const seg s2 = classify_seg(syn);
    synack(s2, piss);
    ASSERT_EQ(frames.size(), 1u); // the final ACK re-used the SYN-ACK's frame: out, not the hook
    discard_sent();
    (void)events();
    eng->l2_failed(syn);
    EXPECT_EQ(find(s2.ours())->st, state::established);
    EXPECT_TRUE(events().empty());
    g_l2_frames = nullptr;
}

// A full pool: no_port with ENOBUFS, counted, nothing leaked.
TEST_F(connect_path, PoolExhaustedIsNoPortEnobufs)
{
    cfg.capacity = 2;
    start();
    connect(ip_peer);
    connect(ip_peer);
    discard_sent();
    connect(ip_peer, peer_port, 8);
    const event e = one_event();
    EXPECT_EQ(e.type, event_type::no_port);
    EXPECT_EQ(e.error, ENOBUFS);
    EXPECT_EQ(count(ctr::pool_exhausted), 1u);
    out.release_stash();
    EXPECT_EQ(rte_mempool_in_use_count(g_pool), mbufs_at_start);
}

} // namespace
} // namespace fg::tcp::atest
