// Test harness for the passive side of the TCP engine: one engine on real
// rte_mbufs (EAL with --no-huge, see passive_main_test.cc), a listener on
// 198.18.0.1:80, and a client at 198.18.0.2 whose segments are built with
// lib/net's builders and classified exactly as the lcore loop classifies
// them. The engine's pkt_out is the test double: tests take what it pushed
// (out.pkts[0..n)) before it ever fills a batch, classify each frame with
// rx offload flags 0 (checksums UNKNOWN, so classify() verifies them in
// software) and look at flags, numbers and options.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "net/checksum.hh"
#include "net/classify.hh"
#include "net/tcp_hdr.hh"
#include "net/tcp_options.hh"
#include "table/listener_table.hh"
#include "tcp/engine.hh"
#include "tcp/listener.hh"

namespace fg::tcp::test {

// Created by main() after rte_eal_init.
extern rte_mempool* g_pool;

inline constexpr rte_ether_addr mac_c{{0x02, 0, 0, 0, 0, 0x02}};
inline constexpr rte_ether_addr mac_s{{0x02, 0, 0, 0, 0, 0x01}};
inline constexpr uint32_t ip_c_host = (198u << 24) | (18u << 16) | 2u;
inline constexpr uint32_t ip_s_host = (198u << 24) | (18u << 16) | 1u;
inline constexpr uint16_t srv_port = 80;
inline constexpr uint32_t t_start = 5000; // engine clock at init (ms); not 0 so wrap bugs show

// One frame the engine transmitted, classified.
struct seg {
    const rte_mbuf* mbuf = nullptr; // identity only: already freed
    net::pkt_kind kind = net::pkt_kind::drop;
    net::drop why = net::drop::truncated_eth;
    net::pkt_info pi{};
    net::tcp_options opts;
    uint64_t ol_flags = 0;
    bool ip_cksum_ok = false;
    bool tcp_cksum_ok = false;
    std::vector<uint8_t> bytes;

    uint8_t flags() const { return pi.tcp_flags; }
    uint32_t seq() const { return pi.seq; }
    uint32_t ack() const { return pi.ack; }
};

// Client options for a SYN.
inline net::tcp_options client_syn_opts(bool mss = true, bool ws = true, bool sack = true, bool ts = true)
{
    net::tcp_options o;
    o.has_mss = mss;
    o.mss = mss ? 1460 : 0;
    o.has_wscale = ws;
    o.wscale = ws ? 7 : 0;
    o.sack_ok = sack;
    o.has_ts = ts;
    o.ts_val = ts ? 1000 : 0;
    o.ts_ecr = 0;
    return o;
}

class passive : public ::testing::Test {
protected:
    // Defaults every test starts from; a test changes them and calls start().
    engine_config cfg;
    listen_options lopts;
    uint16_t n_lcores = 1;

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
    bool started = false;

    void SetUp() override
    {
        ASSERT_TRUE(lt.init(4));
        out.pool = g_pool;
        static unsigned ring_no = 0;
        const std::string name = "pev" + std::to_string(ring_no++);
        evring = rte_ring_create_elem(name.c_str(), sizeof(event), 1024, SOCKET_ID_ANY,
                                      RING_F_SP_ENQ | RING_F_EXACT_SZ);
        ASSERT_NE(evring, nullptr);
        cfg.capacity = 4096;
        cfg.populate = false;
        cfg.listeners = &lt;
        cfg.registry = &reg;
        cfg.cookies = &cookies;
        cfg.isn = &isn;
        cfg.event_ring = evring;
        cfg.out = &out;
        cfg.src_mac = mac_s;
        cfg.dst_mac = mac_c;
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

    // Builds the engine with `cfg` and listens on ip_s:80 with `lopts`.
    void start(bool with_listener = true)
    {
        eng = std::make_unique<engine>();
        std::string err;
        ASSERT_TRUE(eng->init(cfg, t_start, err)) << err;
        if (with_listener) {
            int rc = 0;
            lst = listen(lt, reg, ip_s(), rte_cpu_to_be_16(srv_port), lopts, n_lcores, rc, err);
            ASSERT_NE(lst, nullptr) << err;
        }
        started = true;
    }

    static rte_be32_t ip_s() { return rte_cpu_to_be_32(ip_s_host); }
    static rte_be32_t ip_c() { return rte_cpu_to_be_32(ip_c_host); }
    // The engine's view of a client port's connection.
    static tuple4 tuple(uint16_t cport, uint16_t sport = srv_port)
    {
        return make_tuple4(ip_s_host, sport, ip_c_host, cport);
    }

    // A frame from the client: flags, seq, ack, options, `payload` bytes of 'x'.
    rte_mbuf* frame(uint16_t cport, uint8_t flags, uint32_t seq, uint32_t ack, const net::tcp_options* o = nullptr,
                    uint32_t payload = 0, uint16_t window = 64240, uint16_t sport = srv_port)
    {
        rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
        EXPECT_NE(m, nullptr);
        uint8_t* buf = rte_pktmbuf_mtod(m, uint8_t*);
        const tuple4 t = make_tuple4(ip_c_host, cport, ip_s_host, sport);
        uint32_t len = net::make_tcp_segment(buf, mac_c, mac_s, t, seq, ack, flags, window, o,
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

    static net::pkt_info classify_or_fail(rte_mbuf* m)
    {
        net::pkt_info pi{};
        net::drop why{};
        const net::pkt_kind k = net::classify(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, 0, pi, why);
        EXPECT_EQ(k, net::pkt_kind::tcp) << net::drop_name(why);
        return pi;
    }

    // Feeds one frame to the engine as the lcore loop would.
    void in(rte_mbuf* m)
    {
        const net::pkt_info pi = classify_or_fail(m);
        eng->input(m, pi);
    }
    void in(uint16_t cport, uint8_t flags, uint32_t seq, uint32_t ack, const net::tcp_options* o = nullptr,
            uint32_t payload = 0, uint16_t window = 64240)
    {
        in(frame(cport, flags, seq, ack, o, payload, window));
    }

    // Everything the engine pushed since the last call, classified; frees it.
    std::vector<seg> sent()
    {
        std::vector<seg> v;
        for (uint16_t i = 0; i < out.n; i++) {
            rte_mbuf* m = out.pkts[i];
            seg s;
            s.mbuf = m;
            s.ol_flags = m->ol_flags;
            const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
            s.bytes.assign(p, p + m->data_len);
            s.kind = net::classify(p, m->data_len, 0, s.pi, s.why);
            if (s.kind == net::pkt_kind::tcp) {
                net::parse_tcp_options(p + s.pi.opt_off, s.pi.opt_len, (s.pi.tcp_flags & th_syn) != 0, s.opts);
                const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(p + sizeof(rte_ether_hdr));
                s.ip_cksum_ok = net::ipv4_cksum_ok(ip);
                s.tcp_cksum_ok = net::l4_cksum_ok(ip, p + sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr));
            }
            v.push_back(std::move(s));
            rte_pktmbuf_free(m);
        }
        out.n = 0;
        return v;
    }
    void discard_sent() { (void)sent(); }

    // Exactly one segment sent: it.
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

    std::vector<event> events()
    {
        std::vector<event> v;
        event e;
        while (rte_ring_dequeue_elem(evring, &e, sizeof(e)) == 0) {
            v.push_back(e);
        }
        return v;
    }
    std::vector<event> accepted()
    {
        std::vector<event> v;
        event e[8];
        unsigned n;
        while ((n = lst->accept_burst(e, 8)) != 0) {
            v.insert(v.end(), e, e + n);
        }
        return v;
    }

    uint64_t count(ctr c) const { return eng->counters()[c]; }
    const conn* find(uint16_t cport) const { return eng->find(tuple(cport)); }
    void tick_to(uint32_t ms) { eng->tick(ms); }

    // SYN from cport with client ISN `ciss`: returns the SYN-ACK.
    seg syn(uint16_t cport, uint32_t ciss, const net::tcp_options& o = client_syn_opts())
    {
        in(cport, th_syn, ciss, 0, &o);
        return one();
    }

    // Full handshake; returns the accept event (dequeued from the listener).
    event handshake(uint16_t cport, uint32_t ciss, const net::tcp_options& o = client_syn_opts())
    {
        const seg sa = syn(cport, ciss, o);
        net::tcp_options a;
        if (o.has_ts) {
            a.has_ts = true;
            a.ts_val = o.ts_val + 1;
            a.ts_ecr = sa.opts.ts_val;
        }
        in(cport, th_ack, ciss + 1, sa.seq() + 1, &a);
        EXPECT_TRUE(sent().empty());
        std::vector<event> acc = accepted();
        EXPECT_EQ(acc.size(), 1u);
        return acc.empty() ? event{} : acc[0];
    }

    cmd make_cmd(cmd_type t, const handle& h)
    {
        cmd k{};
        k.type = t;
        k.h = h;
        return k;
    }

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

} // namespace fg::tcp::test
