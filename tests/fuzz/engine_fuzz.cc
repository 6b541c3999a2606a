// See engine_fuzz.hh. The script format, record by record (all numbers
// little-endian; a record cut short by the end of the input ends the script):
//
//   op & 3 == 0  raw frame: u16 length, then that many bytes (capped at what
//                is left and at the mbuf's room). op >> 2 picks the rx offload
//                flags: 0 none (checksums checked in software), 1 NIC says
//                GOOD, 2 NIC says BAD, 3 none.
//   op & 3 == 1  aimed segment: u8 target (one of the populated entries, a
//                listener with a fresh client port, or a closed port), u8 TCP
//                flags, i16 seq delta from the entry's RCV.NXT, i16 ack delta
//                from its SND.NXT, u16 window, u8 option bytes (0..40, padded
//                to a multiple of 4 with EOL) + the bytes, u8 payload length;
//                built with correct checksums, from the peer to us.
//   op & 3 == 2  clock: advance by u8 * (1, 10, 1000 or 60000 ms by op >> 2).
//   op & 3 == 3  command: u8 kind (close, abort, connect), u8 target.
#include "engine_fuzz.hh"

#include <sys/prctl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "net/arp.hh"
#include "net/checksum.hh"
#include "net/classify.hh"
#include "net/ether.hh"
#include "net/icmp.hh"
#include "net/ipv4.hh"
#include "net/tcp_hdr.hh"
#include "route/addr.hh"
#include "route/route.hh"
#include "table/listener_table.hh"
#include "tcp/connect.hh"
#include "tcp/engine.hh"
#include "tcp/listener.hh"

namespace fg::fuzz {
namespace {

constexpr rte_ether_addr mac_us{{0x02, 0, 0, 0, 0, 0x01}};
constexpr rte_ether_addr mac_peer{{0x02, 0, 0, 0, 0, 0x02}};
constexpr uint32_t ip_us = RTE_IPV4(198, 18, 0, 1);
constexpr uint32_t ip_peer = RTE_IPV4(198, 18, 0, 2);
constexpr uint16_t port_queue = 80;  // listener: SYN queue of 4, cookies when full, accept ring of 8
constexpr uint16_t port_cookie = 81; // listener: cookies always, accept-and-hold
constexpr uint16_t port_closed = 99; // nobody listens
constexpr uint32_t t0 = 5000;        // engine clock at start (ms)
constexpr uint32_t capacity = 64;    // connections: small, so the pool-full paths are reachable
constexpr uint32_t settle_ms = 600000; // clock run after the script: every timer-driven entry ends

struct world {
    bool up = false;
    rte_mempool* pool = nullptr;
    rte_ring* tx = nullptr; // what the engine transmits (the ring port's tx ring)
    uint16_t port = 0;
    std::unique_ptr<route::iface_addrs> addrs;
    std::unique_ptr<route::route_table> routes;
    table::listener_table lt;
    tcp::listener_registry reg;
    std::unique_ptr<tcp::listener> l_queue;
    std::unique_ptr<tcp::listener> l_cookie;
    std::unique_ptr<tcp::syncookie> cookies;
    std::unique_ptr<tcp::isn_generator> isn;
    rte_ring* events = nullptr;
    steering steer{1}; // built once: its tables cost more than a whole small engine
    unsigned mbufs_idle = 0;
};

world& w()
{
    static world x;
    return x;
}

rte_be32_t be32(uint32_t a) { return rte_cpu_to_be_32(a); }
rte_be16_t be16(uint16_t p) { return rte_cpu_to_be_16(p); }

// Reads the script.
struct reader {
    const uint8_t* p;
    size_t n;
    bool take(void* out, size_t k)
    {
        if (n < k) {
            n = 0;
            return false;
        }
        std::memcpy(out, p, k);
        p += k;
        n -= k;
        return true;
    }
    bool u8(uint8_t& v) { return take(&v, 1); }
    bool u16(uint16_t& v)
    {
        uint8_t b[2];
        if (!take(b, 2)) {
            return false;
        }
        v = uint16_t(b[0] | (b[1] << 8));
        return true;
    }
};

// One run: an engine populated with every kind of entry.
class run {
public:
    const char* error = nullptr;

    run()
    {
        world& x = w();
        _out.port = x.port;
        _out.queue = 0;
        _out.pool = x.pool;
        _cfg.capacity = capacity;
        _cfg.populate = false;
        _cfg.listeners = &x.lt;
        _cfg.registry = &x.reg;
        _cfg.cookies = x.cookies.get();
        _cfg.isn = x.isn.get();
        _cfg.routes = x.routes.get();
        _cfg.event_ring = x.events;
        _cfg.out = &_out;
        _cfg.src_mac = mac_us;
        _cfg.dst_mac = mac_peer;
        _cfg.active = &_acfg;
        _acfg.port_key = siphash_key{{1, 2}};
        _acfg.steer = &x.steer;
        _acfg.clock = tcp::active_clock::engine_ms;
        _acfg.time_wait_ms = 60000;
        _acfg.ports.lo = 40000;
        _acfg.ports.hi = 40063;
        std::string err;
        if (!_eng.init(_cfg, t0, err)) {
            std::fprintf(stderr, "fuzz-engine: %s\n", err.c_str());
            error = "engine init failed";
            return;
        }
        _now = t0;
        populate();
    }

    ~run()
    {
        // Whatever is left, like a stack being torn down.
        drain();
        reset_world();
    }

    void script(reader r)
    {
        uint8_t op;
        while (error == nullptr && r.u8(op)) {
            switch (op & 3) {
            case 0:
                raw(r, op >> 2);
                break;
            case 1:
                aimed(r);
                break;
            case 2:
                clock(r, op >> 2);
                break;
            default:
                command(r);
                break;
            }
            drain();
        }
    }

    // The clock runs on until every timer-driven entry must have ended.
    void settle()
    {
        if (error != nullptr) {
            return;
        }
        const uint32_t end = _now + settle_ms;
        while (_now != end && error == nullptr) {
            _now = std::min(end, _now + 2000); // coarse: timers fire late, never early
            _eng.tick(_now);
            drain();
        }
        if (error != nullptr) {
            return;
        }
        if (_eng.conns_in_use() != _eng.table_size()) {
            error = "connection pool and table disagree";
            return;
        }
        if (_eng.timers_armed() != 0) {
            error = "timers still armed 10 minutes after the last segment";
            return;
        }
        // Requests all expired: no SYN-queue place may stay taken.
        if (w().l_queue->lcore(0).syn_queue_len != 0 || w().l_cookie->lcore(0).syn_queue_len != 0) {
            error = "SYN queue count leaked";
            return;
        }
        // Left: ESTABLISHED / CLOSE-WAIT entries only (no timer runs there).
        for (const tuple4& t : _targets) {
            const tcp::conn* c = _eng.find(t);
            if (c != nullptr && c->st != tcp::state::established && c->st != tcp::state::close_wait) {
                error = "an entry outlived its timers";
                return;
            }
        }
    }

private:
    tcp::engine_config _cfg;
    tcp::active_config _acfg;
    pkt_out _out;
    tcp::engine _eng;
    uint32_t _now = t0;
    std::vector<tuple4> _targets; // our view: laddr us, raddr the peer
    std::vector<tcp::handle> _handles;

    static tuple4 view(uint16_t lport, uint16_t rport) { return tuple4{be32(ip_us), be32(ip_peer), be16(lport), be16(rport)}; }

    void reset_world()
    {
        world& x = w();
        for (tcp::listener* l : {x.l_queue.get(), x.l_cookie.get()}) {
            l->lcore(0) = tcp::listener::lcore_state{};
            tcp::event e[16];
            while (l->accept_burst(e, 16) != 0) {
            }
        }
        tcp::event e[64];
        while (rte_ring_dequeue_burst_elem(x.events, e, sizeof(tcp::event), 64, nullptr) != 0) {
        }
    }

    // ---- frames in ----

    void feed(rte_mbuf* m, uint64_t ol_flags)
    {
        m->ol_flags = ol_flags;
        net::pkt_info pi;
        net::drop why;
        const net::pkt_kind k =
            net::classify(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), ol_flags, pi, why);
        const route::iface_addrs& a = *w().addrs;
        // As the lcore loop's admit_ip(): our MAC (TCP) or also a group
        // address (ICMP), our address, a source that is not ours.
        const rte_ether_addr& dmac = net::eth_hdr(rte_pktmbuf_mtod(m, uint8_t*))->dst_addr;
        const bool to_us = rte_is_same_ether_addr(&dmac, &mac_us) != 0;
        const bool admitted = a.admit_ipv4(pi.src_ip, pi.dst_ip) == route::iface_addrs::admit::local;
        switch (k) {
        case net::pkt_kind::tcp:
            if (!to_us || !admitted) {
                rte_pktmbuf_free(m);
                return;
            }
            _eng.input(m, pi);
            return;
        case net::pkt_kind::arp: {
            if (a.is_local(pi.arp_tip) && pi.arp_op == RTE_ARP_OP_REQUEST) {
                const uint32_t len = net::make_arp_reply_inplace(rte_pktmbuf_mtod(m, uint8_t*), pi, mac_us);
                m->data_len = uint16_t(len);
                m->pkt_len = len;
                check_arp(m);
            }
            rte_pktmbuf_free(m);
            return;
        }
        case net::pkt_kind::icmp_echo:
            if ((to_us || rte_is_multicast_ether_addr(&dmac)) && admitted) {
                const uint32_t len =
                    net::make_icmp_echo_reply_inplace(rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_data_len(m), pi);
                m->data_len = uint16_t(len);
                m->pkt_len = len;
                check_icmp(m);
            }
            rte_pktmbuf_free(m);
            return;
        default:
            rte_pktmbuf_free(m);
            return;
        }
    }

    rte_mbuf* mbuf_of(const uint8_t* p, uint32_t len)
    {
        rte_mbuf* m = rte_pktmbuf_alloc(w().pool);
        if (m == nullptr) {
            error = "mbuf pool empty: something leaks mbufs";
            return nullptr;
        }
        len = std::min<uint32_t>(len, rte_pktmbuf_tailroom(m));
        std::memcpy(rte_pktmbuf_append(m, uint16_t(len)), p, len);
        return m;
    }

    void raw(reader& r, unsigned variant)
    {
        uint16_t len = 0;
        if (!r.u16(len)) {
            return;
        }
        const uint32_t n = std::min<size_t>(len, r.n);
        rte_mbuf* m = mbuf_of(r.p, n);
        r.p += n;
        r.n -= n;
        if (m == nullptr) {
            return;
        }
        static const uint64_t flags[] = {0, RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD,
                                         RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_BAD, 0};
        feed(m, flags[variant & 3]);
    }

    void aimed(reader& r)
    {
        uint8_t target = 0, flags = 0, optlen = 0, paylen = 0;
        uint16_t dseq = 0, dack = 0, win = 0;
        uint8_t opts[40] = {};
        if (!r.u8(target) || !r.u8(flags) || !r.u16(dseq) || !r.u16(dack) || !r.u16(win) || !r.u8(optlen)) {
            return;
        }
        optlen = uint8_t(std::min<unsigned>(optlen, 40));
        if (!r.take(opts, optlen) || !r.u8(paylen)) {
            return;
        }
        const unsigned n_targets = unsigned(_targets.size()) + 3;
        const unsigned i = target % n_targets;
        tuple4 t;
        uint32_t seq = 1000u + uint32_t(int16_t(dseq));
        uint32_t ack = uint32_t(int16_t(dack));
        if (i < _targets.size()) {
            t = _targets[i];
            const tcp::conn* c = _eng.find(t);
            if (c != nullptr) {
                seq = c->rcv_nxt + uint32_t(int16_t(dseq));
                ack = c->snd_nxt + uint32_t(int16_t(dack));
            }
        } else if (i == _targets.size()) {
            t = view(port_queue, uint16_t(3000 + (dseq & 0xff)));
        } else if (i == _targets.size() + 1) {
            t = view(port_cookie, uint16_t(3000 + (dseq & 0xff)));
        } else {
            t = view(port_closed, 3999);
        }
        uint8_t buf[2048];
        const uint32_t olen = (optlen + 3u) & ~3u;
        std::memset(buf, 0, sizeof(buf));
        net::write_eth(buf, mac_us, mac_peer, RTE_ETHER_TYPE_IPV4);
        auto* ip = reinterpret_cast<rte_ipv4_hdr*>(buf + 14);
        const uint32_t tcp_len = 20 + olen + paylen;
        net::write_ipv4_hdr(ip, uint16_t(20 + tcp_len), IPPROTO_TCP, t.raddr, t.laddr);
        auto* th = reinterpret_cast<rte_tcp_hdr*>(buf + 34);
        th->src_port = t.rport;
        th->dst_port = t.lport;
        th->sent_seq = rte_cpu_to_be_32(seq);
        th->recv_ack = rte_cpu_to_be_32(ack);
        th->data_off = uint8_t(((20 + olen) / 4) << 4);
        th->tcp_flags = flags;
        th->rx_win = rte_cpu_to_be_16(win);
        std::memcpy(buf + 54, opts, optlen);
        std::memset(buf + 54 + olen, 'x', paylen);
        net::set_ipv4_cksum(ip);
        net::set_tcp_cksum(ip, th);
        rte_mbuf* m = mbuf_of(buf, 34 + tcp_len);
        if (m != nullptr) {
            feed(m, 0);
        }
    }

    void clock(reader& r, unsigned scale)
    {
        static const uint32_t unit[] = {1, 10, 1000, 60000};
        uint8_t k = 0;
        if (!r.u8(k)) {
            return;
        }
        _now += uint32_t(k) * unit[scale & 3];
        _eng.tick(_now);
    }

    void command(reader& r)
    {
        uint8_t kind = 0, target = 0;
        if (!r.u8(kind) || !r.u8(target)) {
            return;
        }
        tcp::cmd k{};
        switch (kind % 3) {
        case 0:
        case 1: {
            k.type = kind % 3 == 0 ? tcp::cmd_type::close : tcp::cmd_type::abort;
            // A live connection's handle, or a stale one.
            if (!_targets.empty() && target < 2 * _targets.size()) {
                const tcp::conn* c = _eng.find(_targets[target % _targets.size()]);
                if (c != nullptr) {
                    k.h = _eng.handle_of(*c);
                }
            }
            if (k.h.slot == 0 && k.h.gen == 0 && !_handles.empty()) {
                k.h = _handles[target % _handles.size()];
            }
            break;
        }
        default:
            k.type = tcp::cmd_type::connect;
            k.tuple = view(target & 1 ? uint16_t(40000 + (target >> 1) % 64) : 0, uint16_t(5000 + (target & 7)));
            if (target & 0x80) {
                k.tuple.laddr = 0;
            }
            break;
        }
        _eng.command(k);
    }

    // ---- frames out ----

    void check_tcp(const uint8_t* p, uint32_t len)
    {
        net::pkt_info pi;
        net::drop why;
        if (net::classify(p, len, 0, pi, why) != net::pkt_kind::tcp) {
            error = "the engine sent a frame that does not classify as TCP";
            return;
        }
        if (pi.src_ip != be32(ip_us) || net::is_martian_addr(pi.dst_ip) || pi.dst_ip == be32(ip_us)) {
            error = "the engine sent from an address not ours, or to a martian or to itself";
            return;
        }
        if (pi.payload_len != 0) {
            error = "the engine sent payload (it never sends data)";
            return;
        }
        if ((pi.tcp_flags & RTE_TCP_SYN_FLAG) && (pi.tcp_flags & (RTE_TCP_RST_FLAG | RTE_TCP_FIN_FLAG))) {
            error = "SYN with RST or FIN sent";
            return;
        }
    }

    void check_arp(const rte_mbuf* m)
    {
        net::pkt_info pi;
        net::drop why;
        if (net::classify(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, 0, pi, why) != net::pkt_kind::arp ||
            pi.arp_op != RTE_ARP_OP_REPLY) {
            error = "ARP reply built in place is not an ARP reply";
        }
    }

    void check_icmp(const rte_mbuf* m)
    {
        const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
        const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(p + 14);
        if (m->data_len < 42 || !net::ipv4_cksum_ok(ip) || p[34] != RTE_IP_ICMP_ECHO_REPLY ||
            !net::icmp_cksum_ok(p + 34, rte_be_to_cpu_16(ip->total_length) - 20u)) {
            error = "ICMP echo reply built in place is wrong";
        }
    }

    void drain()
    {
        _out.flush();
        rte_mbuf* ms[64];
        unsigned n;
        while ((n = rte_ring_dequeue_burst(w().tx, reinterpret_cast<void**>(ms), 64, nullptr)) != 0) {
            for (unsigned i = 0; i < n; i++) {
                if (error == nullptr) {
                    check_tcp(rte_pktmbuf_mtod(ms[i], const uint8_t*), ms[i]->data_len);
                }
                rte_pktmbuf_free(ms[i]);
            }
        }
    }

    // ---- the entries every run starts with ----

    void seg(uint16_t lport, uint16_t rport, uint8_t flags, uint32_t seq, uint32_t ack, const net::tcp_options* o)
    {
        uint8_t buf[128];
        const tuple4 from{be32(ip_peer), be32(ip_us), be16(rport), be16(lport)};
        const uint32_t len =
            net::make_tcp_segment(buf, mac_peer, mac_us, from, seq, ack, flags, 64240, o, net::cksum_mode::software);
        rte_mbuf* m = mbuf_of(buf, len);
        if (m != nullptr) {
            feed(m, 0);
        }
    }

    // The last frame the engine sent, classified (and all of them freed).
    bool last_sent(net::pkt_info& pi, net::tcp_options& o)
    {
        _out.flush();
        bool got = false;
        rte_mbuf* m;
        while (rte_ring_dequeue(w().tx, reinterpret_cast<void**>(&m)) == 0) {
            net::drop why;
            const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
            if (net::classify(p, m->data_len, 0, pi, why) == net::pkt_kind::tcp) {
                net::parse_tcp_options(p + pi.opt_off, pi.opt_len, (pi.tcp_flags & RTE_TCP_SYN_FLAG) != 0, o);
                got = true;
            }
            rte_pktmbuf_free(m);
        }
        return got;
    }

    static net::tcp_options syn_opts(uint32_t tsval)
    {
        net::tcp_options o;
        o.has_mss = true;
        o.mss = 1460;
        o.sack_ok = true;
        o.has_ts = true;
        o.ts_val = tsval;
        o.has_wscale = true;
        o.wscale = 7;
        return o;
    }

    static net::tcp_options ts_opts(uint32_t tsval, uint32_t tsecr)
    {
        net::tcp_options o;
        o.has_ts = true;
        o.ts_val = tsval;
        o.ts_ecr = tsecr;
        return o;
    }

    // Passive handshake from rport; returns our ISN (0 if no SYN-ACK).
    uint32_t passive_open(uint16_t lport, uint16_t rport, uint32_t ciss, bool complete)
    {
        const net::tcp_options o = syn_opts(100);
        seg(lport, rport, RTE_TCP_SYN_FLAG, ciss, 0, &o);
        net::pkt_info pi;
        net::tcp_options so;
        if (!last_sent(pi, so)) {
            return 0;
        }
        _targets.push_back(view(lport, rport));
        if (complete) {
            const net::tcp_options a = ts_opts(101, so.ts_val);
            seg(lport, rport, RTE_TCP_ACK_FLAG, ciss + 1, pi.seq + 1, &a);
            drain();
        }
        return pi.seq;
    }

    // Active open to the peer's rport; completes it if `complete`.
    void active_open(uint16_t rport, bool complete)
    {
        tcp::cmd k{};
        k.type = tcp::cmd_type::connect;
        k.tuple = tuple4{0, be32(ip_peer), 0, be16(rport)};
        _eng.command(k);
        net::pkt_info pi;
        net::tcp_options so;
        if (!last_sent(pi, so)) {
            return;
        }
        const tuple4 ours{pi.tuple.raddr, pi.tuple.laddr, pi.tuple.rport, pi.tuple.lport};
        _targets.push_back(ours);
        if (complete) {
            net::tcp_options o = syn_opts(500);
            o.ts_ecr = so.ts_val;
            seg(rte_be_to_cpu_16(ours.lport), rport, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 7000000, pi.seq + 1, &o);
            drain();
        }
    }

    void populate()
    {
        // Requests (SYN-RECEIVED) and accepted connections on the queueing listener.
        passive_open(port_queue, 1001, 11000, false);
        passive_open(port_queue, 1002, 12000, false);
        passive_open(port_queue, 2001, 21000, true);
        passive_open(port_queue, 2002, 22000, true);
        // One the peer closed (CLOSE-WAIT: the application has not closed yet).
        {
            const tuple4 t = view(port_queue, 2002);
            const tcp::conn* c = _eng.find(t);
            if (c != nullptr) {
                const net::tcp_options a = ts_opts(102, c->ts_offset + _now);
                seg(port_queue, 2002, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, c->rcv_nxt, c->snd_nxt, &a);
                drain();
            }
        }
        // A cookie connection held on the lcore.
        passive_open(port_cookie, 2101, 31000, true);
        // Active: SYN-SENT, ESTABLISHED, and one closed by us into FIN-WAIT-2
        // and one into TIME-WAIT.
        active_open(5000, false);
        active_open(5001, true);
        active_open(5002, true);
        active_open(5003, true);
        for (const tcp::event& e : events()) {
            if (e.type == tcp::event_type::established) {
                _handles.push_back(e.h);
            }
        }
        for (uint16_t rport : {uint16_t(5002), uint16_t(5003)}) {
            for (const tuple4& t : _targets) {
                const tcp::conn* c = _eng.find(t);
                if (c == nullptr || t.rport != be16(rport)) {
                    continue;
                }
                tcp::cmd k{};
                k.type = tcp::cmd_type::close;
                k.h = _eng.handle_of(*c);
                _eng.command(k);
                drain();
                c = _eng.find(t);
                if (c == nullptr) {
                    break;
                }
                const net::tcp_options a = ts_opts(600, c->ts_offset + _now);
                seg(rte_be_to_cpu_16(t.lport), rport, rport == 5003 ? (RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG)
                                                                   : RTE_TCP_ACK_FLAG,
                    c->rcv_nxt, c->snd_nxt, &a);
                drain();
                break;
            }
        }
        for (const tcp::event& e : events()) {
            _handles.push_back(e.h);
        }
        tcp::event acc[16];
        const unsigned n = w().l_queue->accept_burst(acc, 16);
        for (unsigned i = 0; i < n; i++) {
            _handles.push_back(acc[i].h);
        }
    }

    std::vector<tcp::event> events()
    {
        std::vector<tcp::event> v;
        tcp::event e;
        while (rte_ring_dequeue_elem(w().events, &e, sizeof(e)) == 0) {
            v.push_back(e);
        }
        return v;
    }
};

} // namespace

bool engine_init(std::string& error)
{
    world& x = w();
    if (x.up) {
        return true;
    }
    // Every run builds a small engine afresh: with transparent huge pages
    // each of its regions would fault in (and zero) 2 MB, ~6 ms a run.
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    const char* eal_args[] = {"fuzz-engine", "--no-huge", "--no-shconf", "--no-pci", "-m", "256",
                              "--log-level=error", "-l", "0"};
    constexpr int n = int(sizeof(eal_args) / sizeof(eal_args[0]));
    char* args[n];
    for (int i = 0; i < n; i++) {
        args[i] = const_cast<char*>(eal_args[i]);
    }
    if (rte_eal_init(n, args) < 0) {
        error = "rte_eal_init failed";
        return false;
    }
    x.pool = rte_pktmbuf_pool_create("fuzz_mbufs", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    rte_ring* rx = rte_ring_create("fuzz_rx", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    x.tx = rte_ring_create("fuzz_tx", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    x.events = rte_ring_create_elem("fuzz_ev", sizeof(tcp::event), 4096, SOCKET_ID_ANY,
                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (x.pool == nullptr || rx == nullptr || x.tx == nullptr || x.events == nullptr) {
        error = "cannot create the mbuf pool or rings";
        return false;
    }
    const int port = rte_eth_from_rings("net_ring_fuzz", &rx, 1, &x.tx, 1, SOCKET_ID_ANY);
    if (port < 0) {
        error = "rte_eth_from_rings failed";
        return false;
    }
    x.port = uint16_t(port);
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(x.port, 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(x.port, 0, 1024, SOCKET_ID_ANY, nullptr, x.pool) != 0 ||
        rte_eth_tx_queue_setup(x.port, 0, 1024, SOCKET_ID_ANY, nullptr) != 0 || rte_eth_dev_start(x.port) != 0) {
        error = "cannot start the ring port";
        return false;
    }
    x.addrs = std::make_unique<route::iface_addrs>();
    route::addr_range r;
    if (!route::parse_addr("198.18.0.1/24", r, error) || !x.addrs->add(x.port, r, error)) {
        return false;
    }
    x.routes = route::route_table::create(*x.addrs, error);
    if (x.routes == nullptr) {
        return false;
    }
    if (!x.lt.init(1)) {
        error = "listener table";
        return false;
    }
    x.cookies = std::make_unique<tcp::syncookie>(siphash_key{{3, 4}}, siphash_key{{5, 6}});
    x.isn = std::make_unique<tcp::isn_generator>(siphash_key{{7, 8}}, siphash_key{{9, 10}});
    tcp::listen_options q;
    q.backlog = 8;
    q.syn_backlog = 4;
    q.cookies = tcp::syncookie_mode::automatic;
    tcp::listen_options c;
    c.backlog = 8;
    c.syn_backlog = 4;
    c.cookies = tcp::syncookie_mode::always;
    c.on_accept = tcp::accept_action::hold;
    c.idle_timeout_ms = 30000; // held connections close after 30 s of silence
    int rc = 0;
    x.l_queue = tcp::listen(x.lt, x.reg, be32(ip_us), be16(port_queue), q, 1, rc, error);
    if (x.l_queue == nullptr) {
        return false;
    }
    x.l_cookie = tcp::listen(x.lt, x.reg, 0, be16(port_cookie), c, 1, rc, error);
    if (x.l_cookie == nullptr) {
        return false;
    }
    x.mbufs_idle = rte_mempool_in_use_count(x.pool);
    x.up = true;
    return true;
}

const char* engine_one(const uint8_t* data, size_t size)
{
    const char* err = nullptr;
    {
        run r;
        r.script(reader{data, size});
        r.settle();
        err = r.error;
    }
    if (err == nullptr && rte_mempool_in_use_count(w().pool) != w().mbufs_idle) {
        err = "mbufs leaked";
    }
    return err;
}

std::string engine_seed(unsigned which)
{
    std::string s;
    auto u8 = [&](unsigned v) { s.push_back(char(uint8_t(v))); };
    auto u16 = [&](unsigned v) {
        u8(v & 0xff);
        u8(v >> 8);
    };
    // aimed(target, flags, dseq, dack, win, options, payload)
    auto aimed = [&](unsigned target, unsigned flags, int dseq, int dack, const std::string& opts = "",
                     unsigned pay = 0) {
        u8(1);
        u8(target);
        u8(flags);
        u16(uint16_t(int16_t(dseq)));
        u16(uint16_t(int16_t(dack)));
        u16(64240);
        u8(unsigned(opts.size()));
        s += opts;
        u8(pay);
    };
    const std::string linux_syn("\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00\x01\x03\x03\x07", 20);
    switch (which % engine_seeds) {
    case 0: // every entry gets its in-window ACK with data, then time passes
        for (unsigned t = 0; t < 12; t++) {
            aimed(t, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 0, 0, "", 10);
        }
        u8(2 | (2 << 2));
        u8(70);
        break;
    case 1: // RSTs: exact, in window, out of window
        for (unsigned t = 0; t < 12; t++) {
            aimed(t, RTE_TCP_RST_FLAG, int(t % 3) * 100, 0);
            aimed(t, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, 0, 0);
        }
        break;
    case 2: // SYNs everywhere, Linux options
        for (unsigned t = 0; t < 14; t++) {
            aimed(t, RTE_TCP_SYN_FLAG, -1, 0, linux_syn);
        }
        break;
    case 3: // FINs, then the application closes and aborts
        for (unsigned t = 0; t < 12; t++) {
            aimed(t, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, 0, 0);
        }
        for (unsigned t = 0; t < 12; t++) {
            u8(3);
            u8(t);
            u8(t);
        }
        break;
    case 4: // SYN-ACKs and bad ACKs
        for (unsigned t = 0; t < 12; t++) {
            aimed(t, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, -1, int(t) - 6, linux_syn);
            aimed(t, RTE_TCP_ACK_FLAG, 0, 1000);
        }
        break;
    case 5: // connects, then time
        for (unsigned t = 0; t < 8; t++) {
            u8(3);
            u8(2);
            u8(t * 37);
        }
        u8(2 | (3 << 2));
        u8(3);
        break;
    case 6: { // a raw SYN to the cookie listener, and a few ticks
        const uint8_t syn[] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00, 0x45, 0x00, 0x00, 0x28,
                               0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 198, 18, 0, 2, 198, 18, 0, 1,
                               0x13, 0x88, 0x00, 81, 0, 0, 0x10, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0};
        u8(0 | (1 << 2)); // NIC says the checksums are good
        u16(sizeof(syn));
        s.append(reinterpret_cast<const char*>(syn), sizeof(syn));
        for (unsigned i = 0; i < 5; i++) {
            u8(2 | (2 << 2));
            u8(1);
        }
        break;
    }
    default: // windows and options on the synchronized entries
        for (unsigned t = 0; t < 12; t++) {
            aimed(t, RTE_TCP_ACK_FLAG, 70000 % 65536, 0, std::string("\x01\x01\x08\x0a\x00\x00\x10\x00\x00\x00\x00\x01", 12));
            aimed(t, RTE_TCP_ACK_FLAG, -5, -1, "", 20);
        }
        break;
    }
    return s;
}

} // namespace fg::fuzz
