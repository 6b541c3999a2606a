// Test harness for the active side of the TCP engine: one engine on real
// rte_mbufs (EAL with --no-huge, see active_main_test.cc) with a route table
// (198.18.0.1-198.18.0.20/24 ours on port 0, 198.19.5.0/24 via 198.18.0.254
// with MTU 1400, nothing else routed) and a peer at 198.18.0.100 whose
// segments are built with lib/net's builders and classified exactly as the
// lcore loop classifies them. The engine's pkt_out is a test double: tests
// take what it pushed (out.pkts[0..n)) before it ever fills a batch and
// classify each frame with rx offload flags 0 (checksums UNKNOWN, so
// classify() verifies them in software). The engine runs on its ms clock
// (active_clock::engine_ms), so ISNs, TSvals and RTTs are exact.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "net/checksum.hh"
#include "net/classify.hh"
#include "net/tcp_hdr.hh"
#include "net/tcp_options.hh"
#include "route/route.hh"
#include "table/listener_table.hh"
#include "tcp/connect.hh"
#include "tcp/engine.hh"
#include "tcp/listener.hh"

namespace fg::tcp::atest {

// Created by main() after rte_eal_init.
extern rte_mempool* g_pool;
extern route::route_table* g_routes;

inline constexpr rte_ether_addr mac_us{{0x02, 0, 0, 0, 0, 0x01}};
inline constexpr rte_ether_addr mac_peer{{0x02, 0, 0, 0, 0, 0x02}};
inline constexpr uint32_t ip_first = ipv4(198, 18, 0, 1); // our addresses: .1 - .20
inline constexpr uint32_t ip_last = ipv4(198, 18, 0, 20);
inline constexpr uint32_t ip_peer = ipv4(198, 18, 0, 100);   // connected subnet, MTU 1500
inline constexpr uint32_t ip_far = ipv4(198, 19, 5, 7);      // via 198.18.0.254, route MTU 1400
inline constexpr uint32_t ip_nowhere = ipv4(203, 0, 113, 9); // no route
inline constexpr uint16_t peer_port = 80;
inline constexpr uint32_t t_start = 5000; // engine clock at init (ms); not 0 so wrap bugs show
inline constexpr uint32_t peer_tsval = 777000;

inline rte_be32_t be32(uint32_t a) { return rte_cpu_to_be_32(a); }
inline rte_be16_t be16(uint16_t p) { return rte_cpu_to_be_16(p); }

// One frame the engine transmitted, classified.
struct seg {
    net::pkt_kind kind = net::pkt_kind::drop;
    net::drop why = net::drop::truncated_eth;
    net::pkt_info pi{};
    net::tcp_options opts;
    bool ip_cksum_ok = false;
    bool tcp_cksum_ok = false;
    uint8_t ttl = 0;
    bool df = false;

    uint8_t flags() const { return pi.tcp_flags; }
    uint32_t seq() const { return pi.seq; }
    uint32_t ack() const { return pi.ack; }
    // The sender's (our) view of the connection.
    tuple4 ours() const { return tuple4{pi.tuple.raddr, pi.tuple.laddr, pi.tuple.rport, pi.tuple.lport}; }
    uint16_t sport() const { return rte_be_to_cpu_16(pi.tuple.rport); }
};

// The peer's SYN-ACK options (a Linux server's).
inline net::tcp_options peer_opts(bool ws = true, bool sack = true, bool ts = true, uint16_t mss = 1400,
                                  uint8_t wscale = 9)
{
    net::tcp_options o;
    o.has_mss = mss != 0;
    o.mss = mss;
    o.has_wscale = ws;
    o.wscale = ws ? wscale : 0;
    o.sack_ok = sack;
    o.has_ts = ts;
    return o;
}

class active : public ::testing::Test {
protected:
    engine_config cfg;
    active_config acfg;

    table::listener_table lt;
    listener_registry reg;
    syncookie cookies{siphash_key{{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull}},
                      siphash_key{{0x1716151413121110ull, 0x1f1e1d1c1b1a1918ull}}};
    isn_generator isn{siphash_key{{0x2726252423222120ull, 0x2f2e2d2c2b2a2928ull}},
                      siphash_key{{0x3736353433323130ull, 0x3f3e3d3c3b3a3938ull}}};
    pkt_out out;
    rte_ring* evring = nullptr;
    std::unique_ptr<engine> eng;
    std::unique_ptr<listener> lst;
    unsigned mbufs_at_start = 0;

    void SetUp() override
    {
        ASSERT_TRUE(lt.init(4));
        out.pool = g_pool;
        static unsigned ring_no = 0;
        const std::string name = "aev" + std::to_string(ring_no++);
        evring = rte_ring_create_elem(name.c_str(), sizeof(event), 1024, SOCKET_ID_ANY,
                                      RING_F_SP_ENQ | RING_F_EXACT_SZ);
        ASSERT_NE(evring, nullptr);
        cfg.capacity = 4096;
        cfg.populate = false;
        cfg.listeners = &lt;
        cfg.registry = &reg;
        cfg.cookies = &cookies;
        cfg.isn = &isn;
        cfg.routes = g_routes;
        cfg.event_ring = evring;
        cfg.out = &out;
        cfg.src_mac = mac_us;
        cfg.dst_mac = mac_peer;
        cfg.active = &acfg;
        acfg.port_key = siphash_key{{0x4746454443424140ull, 0x4f4e4d4c4b4a4948ull}};
        acfg.clock = active_clock::engine_ms;
        mbufs_at_start = rte_mempool_in_use_count(g_pool);
    }

    void TearDown() override
    {
        discard_sent();
        if (lst != nullptr) {
            unlisten(lt, reg, *lst, nullptr);
            lst.reset();
        }
        eng.reset();
        rte_ring_free(evring);
    }

    void start()
    {
        eng = std::make_unique<engine>();
        std::string err;
        ASSERT_TRUE(eng->init(cfg, t_start, err)) << err;
    }

    // ---- application side ----
    void connect(uint32_t raddr, uint16_t rport = peer_port, uint64_t user = 0, uint32_t laddr = 0,
                 uint16_t lport = 0)
    {
        cmd k{};
        k.type = cmd_type::connect;
        k.tuple = tuple4{laddr != 0 ? be32(laddr) : 0, be32(raddr), be16(lport), be16(rport)};
        k.user = user;
        eng->command(k);
    }
    // connect() and the SYN it sent.
    seg connect_syn(uint32_t raddr = ip_peer, uint16_t rport = peer_port, uint64_t user = 0)
    {
        connect(raddr, rport, user);
        return one();
    }
    void close(const handle& h) { eng->command(cmd{cmd_type::close, h, {}, 0}); }
    void abort(const handle& h) { eng->command(cmd{cmd_type::abort, h, {}, 0}); }

    std::vector<event> events()
    {
        std::vector<event> v;
        event e;
        while (rte_ring_dequeue_elem(evring, &e, sizeof(e)) == 0) {
            v.push_back(e);
        }
        return v;
    }
    event one_event()
    {
        std::vector<event> v = events();
        EXPECT_EQ(v.size(), 1u);
        return v.empty() ? event{} : v[0];
    }

    // ---- the peer ----
    // A frame from the peer to our side of `ours`.
    rte_mbuf* frame(const tuple4& ours, uint8_t flags, uint32_t seq, uint32_t ack, const net::tcp_options* o = nullptr,
                    uint32_t payload = 0, uint16_t window = 65160)
    {
        rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
        EXPECT_NE(m, nullptr);
        uint8_t* buf = rte_pktmbuf_mtod(m, uint8_t*);
        const tuple4 t{ours.raddr, ours.laddr, ours.rport, ours.lport};
        uint32_t len = net::make_tcp_segment(buf, mac_peer, mac_us, t, seq, ack, flags, window, o,
                                             net::cksum_mode::software);
        if (payload != 0) {
            std::memset(buf + len, 'x', payload);
            len += payload;
            auto* ip = reinterpret_cast<rte_ipv4_hdr*>(buf + sizeof(rte_ether_hdr));
            ip->total_length = rte_cpu_to_be_16(uint16_t(len - sizeof(rte_ether_hdr)));
            net::set_ipv4_cksum(ip);
            auto* th = reinterpret_cast<rte_tcp_hdr*>(buf + sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr));
            net::set_tcp_cksum(ip, th);
        }
        m->data_len = uint16_t(len);
        m->pkt_len = len;
        return m;
    }
    void in(rte_mbuf* m)
    {
        net::pkt_info pi{};
        net::drop why{};
        const net::pkt_kind k = net::classify(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, 0, pi, why);
        ASSERT_EQ(k, net::pkt_kind::tcp) << net::drop_name(why);
        eng->input(m, pi);
    }
    void in(const tuple4& ours, uint8_t flags, uint32_t seq, uint32_t ack, const net::tcp_options* o = nullptr,
            uint32_t payload = 0, uint16_t window = 65160)
    {
        in(frame(ours, flags, seq, ack, o, payload, window));
    }
    // Timestamp option from the peer (TSval, TSecr).
    static net::tcp_options ts(uint32_t val, uint32_t ecr)
    {
        net::tcp_options o;
        o.has_ts = true;
        o.ts_val = val;
        o.ts_ecr = ecr;
        return o;
    }
    // The peer's SYN-ACK to `syn` (its ISN `piss`), options `o` (TSecr filled in).
    void synack(const seg& syn, uint32_t piss, net::tcp_options o = peer_opts())
    {
        if (o.has_ts) {
            o.ts_val = peer_tsval;
            o.ts_ecr = syn.opts.ts_val;
        }
        in(syn.ours(), th_syn | th_ack, piss, syn.seq() + 1, &o);
    }

    // Everything the engine pushed since the last call, classified; frees it.
    std::vector<seg> sent()
    {
        std::vector<seg> v;
        for (uint16_t i = 0; i < out.n; i++) {
            rte_mbuf* m = out.pkts[i];
            v.push_back(classify_seg(m));
            rte_pktmbuf_free(m);
        }
        out.n = 0;
        return v;
    }
    static seg classify_seg(const rte_mbuf* m)
    {
        seg s;
        const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
        s.kind = net::classify(p, m->data_len, 0, s.pi, s.why);
        if (s.kind == net::pkt_kind::tcp) {
            net::parse_tcp_options(p + s.pi.opt_off, s.pi.opt_len, (s.pi.tcp_flags & th_syn) != 0, s.opts);
            const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(p + sizeof(rte_ether_hdr));
            s.ip_cksum_ok = net::ipv4_cksum_ok(ip);
            s.tcp_cksum_ok = net::l4_cksum_ok(ip, p + sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr));
            s.ttl = ip->time_to_live;
            s.df = (rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_DF_FLAG) != 0;
        }
        return s;
    }
    void discard_sent() { (void)sent(); }
    seg one()
    {
        std::vector<seg> v = sent();
        EXPECT_EQ(v.size(), 1u);
        if (v.empty()) {
            return seg{};
        }
        EXPECT_EQ(v[0].kind, net::pkt_kind::tcp) << net::drop_name(v[0].why);
        return v[0];
    }

    // ---- whole exchanges ----
    struct open_conn {
        seg syn;      // our SYN
        tuple4 t;     // our view
        uint32_t piss; // the peer's ISN
        handle h;     // from the established event
        uint32_t our_tsval = 0; // TSval of our final ACK
    };
    // connect() + SYN-ACK: an ESTABLISHED connection (final ACK consumed).
    open_conn establish(uint32_t piss = 900000, net::tcp_options o = peer_opts(), uint32_t raddr = ip_peer)
    {
        open_conn c;
        c.syn = connect_syn(raddr);
        c.t = c.syn.ours();
        c.piss = piss;
        synack(c.syn, piss, o);
        const seg a = one();
        c.our_tsval = a.opts.ts_val;
        const event e = one_event();
        EXPECT_EQ(e.type, event_type::established);
        c.h = e.h;
        return c;
    }
    // ESTABLISHED, then close(): returns the FIN.
    seg close_after_establish(open_conn& c)
    {
        c = establish();
        close(c.h);
        return one();
    }

    uint64_t count(ctr c) const { return eng->counters()[c]; }
    const conn* find(const tuple4& t) const { return eng->find(t); }
    void tick_to(uint32_t ms) { eng->tick(ms); }
    uint32_t now() const { return eng->now_ms(); }

    // Nothing left behind: pool, table, timers and mbufs back to where they started.
    void expect_clean()
    {
        discard_sent();
        out.release_stash(); // what the lcore's loop does when it ends
        EXPECT_EQ(eng->conns_in_use(), 0u);
        EXPECT_EQ(eng->table_size(), 0u);
        EXPECT_EQ(eng->timers_armed(), 0u);
        EXPECT_EQ(rte_mempool_in_use_count(g_pool), mbufs_at_start);
    }
};

} // namespace fg::tcp::atest
