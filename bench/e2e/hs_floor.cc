#include "hs_floor.hh"

#include <algorithm>
#include <cstring>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>

#include "base/compiler.hh"

#include "base/tuple.hh"
#include "e2e.hh"

namespace fg::e2e {

namespace {
constexpr uint16_t burst = 32;
constexpr uint32_t l3 = sizeof(rte_ether_hdr);
constexpr uint32_t l4 = l3 + sizeof(rte_ipv4_hdr);
constexpr uint32_t bare = l4 + sizeof(rte_tcp_hdr); // 54: a segment without options

inline rte_ether_hdr* eth_of(uint8_t* d) { return reinterpret_cast<rte_ether_hdr*>(d); }
inline rte_ipv4_hdr* ip_of(uint8_t* d) { return reinterpret_cast<rte_ipv4_hdr*>(d + l3); }
inline rte_tcp_hdr* tcp_of(uint8_t* d) { return reinterpret_cast<rte_tcp_hdr*>(d + l4); }

inline void bump(std::atomic<uint64_t>& a, uint64_t n)
{
    if (n != 0) {
        a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
}

// Addresses, ports and MACs swapped in place: the reply's headers.
inline void turn_around(uint8_t* d)
{
    rte_ether_hdr* eth = eth_of(d);
    const rte_ether_addr m = eth->dst_addr;
    eth->dst_addr = eth->src_addr;
    eth->src_addr = m;
    rte_ipv4_hdr* ip = ip_of(d);
    const rte_be32_t a = ip->src_addr;
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = a;
    rte_tcp_hdr* tcp = tcp_of(d);
    const rte_be16_t p = tcp->src_port;
    tcp->src_port = tcp->dst_port;
    tcp->dst_port = p;
}

// As the stack's loop (core/loop.cc): pktio.hh's prefetch_frame, rx_prefetch_ahead frames ahead.
inline void prefetch_burst_start(rte_mbuf** m, uint16_t n, uint32_t data_at)
{
    for (uint16_t i = 0; i < n && i < rx_prefetch_ahead; i++) {
        prefetch_frame(m[i], data_at);
    }
}

inline void prefetch_next(rte_mbuf** m, uint16_t n, uint16_t i, uint32_t data_at)
{
    if (i + rx_prefetch_ahead < n) {
        prefetch_frame(m[i + rx_prefetch_ahead], data_at);
    }
}

inline bool ipv4_tcp(const rte_mbuf* m)
{
    const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
    return m->data_len >= bare && reinterpret_cast<const rte_ether_hdr*>(d)->ether_type ==
                                      rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
           reinterpret_cast<const rte_ipv4_hdr*>(d + l3)->next_proto_id == IPPROTO_TCP;
}
} // namespace

hs_floor_client::hs_floor_client(const hs_floor_config& c) : _c(c)
{
    syn_spec s;
    s.src_mac = c.src_mac;
    s.dst_mac = c.dst_mac;
    s.dst_ip = ipv4(198, 18, 0, 2);
    s.dst_port = 80;
    s.src_ip_base = ipv4(198, 18, 1, 0);
    s.n_src_ips = std::max<uint32_t>(1, c.src_ips);
    s.linux_options = true; // the 74-byte SYN Floodgate's client sends
    _syn_len = make_syn(s, 0, _syn);
    // The RST (with ACK, as Linux's tcp_send_active_reset) from the SYN's headers.
    std::memcpy(_rst, _syn, bare);
    rte_ipv4_hdr* ip = ip_of(_rst);
    ip->total_length = rte_cpu_to_be_16(40);
    rte_tcp_hdr* tcp = tcp_of(_rst);
    tcp->data_off = 5 << 4;
    tcp->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
    tcp->rx_win = 0;
    _out.port = c.port_id;
    _out.queue = 0;
    _out.pool = c.pool;
    _data_at = frame_offset(c.pool);
    _c.src_ips = s.n_src_ips;
}

hs_floor_client::~hs_floor_client()
{
    _out.flush();
}

void hs_floor_client::step(hs_floor_stats& out)
{
    rte_mbuf* rx[burst];
    const uint16_t n = rte_eth_rx_burst(_c.port_id, 0, rx, burst);
    uint64_t done = 0;
    uint64_t other = 0;
    uint64_t no_mbuf = 0;
    prefetch_burst_start(rx, n, _data_at);
    for (uint16_t i = 0; i < n; i++) {
        prefetch_next(rx, n, i, _data_at);
        rte_mbuf* m = rx[i];
        uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
        if (!ipv4_tcp(m) || tcp_of(d)->tcp_flags != (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) {
            other++;
            rte_pktmbuf_free(m);
            continue;
        }
        // The third ACK, in place.
        turn_around(d);
        rte_tcp_hdr* tcp = tcp_of(d);
        const uint32_t their_seq = rte_be_to_cpu_32(tcp->sent_seq);
        const rte_be32_t my_seq = tcp->recv_ack;
        tcp->sent_seq = my_seq;
        tcp->recv_ack = rte_cpu_to_be_32(their_seq + 1);
        tcp->data_off = 5 << 4;
        tcp->tcp_flags = RTE_TCP_ACK_FLAG;
        ip_of(d)->total_length = rte_cpu_to_be_16(40);
        m->data_len = bare;
        m->pkt_len = bare;
        _out.push(m);
        done++;
        // The RST from its template.
        rte_mbuf* r = _out.alloc();
        if (r == nullptr) {
            no_mbuf++;
            continue;
        }
        uint8_t* rd = rte_pktmbuf_mtod(r, uint8_t*);
        std::memcpy(rd, _rst, bare);
        rte_ipv4_hdr* rip = ip_of(rd);
        rip->src_addr = ip_of(d)->src_addr;
        rip->dst_addr = ip_of(d)->dst_addr;
        rte_tcp_hdr* rt = tcp_of(rd);
        rt->src_port = tcp->src_port;
        rt->dst_port = tcp->dst_port;
        rt->sent_seq = my_seq;
        rt->recv_ack = tcp->recv_ack;
        r->data_len = bare;
        r->pkt_len = bare;
        _out.push(r);
    }
    _in_flight -= std::min<uint64_t>(_in_flight, done);
    // New SYNs up to the window, while the port takes what is sent.
    uint32_t built = 0;
    while (_in_flight < _c.window && built < burst && !_out.backlogged()) {
        rte_mbuf* m = _out.alloc();
        if (m == nullptr) {
            no_mbuf++;
            break;
        }
        uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
        std::memcpy(d, _syn, _syn_len);
        const uint64_t k = _next++;
        ip_of(d)->src_addr = rte_cpu_to_be_32(ipv4(198, 18, 1, 0) + uint32_t(k % _c.src_ips));
        tcp_of(d)->src_port = rte_cpu_to_be_16(uint16_t(1024 + (k / _c.src_ips) % 64000));
        tcp_of(d)->sent_seq = rte_cpu_to_be_32(uint32_t(k * 2654435761u));
        m->data_len = uint16_t(_syn_len);
        m->pkt_len = _syn_len;
        _out.push(m);
        _in_flight++;
        built++;
    }
    _out.flush();
    bump(out.syns, built);
    bump(out.handshakes, done);
    bump(out.other, other);
    bump(out.no_mbuf, no_mbuf);
    out.refused.store(_out.dropped, std::memory_order_relaxed);
}

hs_floor_responder::hs_floor_responder(uint16_t port_id, rte_mempool* pool)
{
    _out.port = port_id;
    _out.queue = 0;
    _out.pool = pool;
    _data_at = frame_offset(pool);
}

void hs_floor_responder::step(hs_floor_stats& out)
{
    rte_mbuf* rx[burst];
    const uint16_t n = rte_eth_rx_burst(_out.port, 0, rx, burst);
    if (n == 0) {
        _out.flush();
        return;
    }
    rte_mbuf* drop[burst];
    uint16_t nd = 0;
    uint64_t other = 0;
    uint64_t synacks = 0;
    prefetch_burst_start(rx, n, _data_at);
    for (uint16_t i = 0; i < n; i++) {
        prefetch_next(rx, n, i, _data_at);
        rte_mbuf* m = rx[i];
        uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
        if (ipv4_tcp(m) && tcp_of(d)->tcp_flags == RTE_TCP_SYN_FLAG) {
            // The SYN-ACK, in place (the SYN's options kept).
            turn_around(d);
            rte_tcp_hdr* tcp = tcp_of(d);
            const uint32_t their = rte_be_to_cpu_32(tcp->sent_seq);
            tcp->recv_ack = rte_cpu_to_be_32(their + 1);
            tcp->sent_seq = rte_cpu_to_be_32(their ^ 0x5bd1e995u);
            tcp->tcp_flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
            _out.push(m);
            synacks++;
        } else {
            other += !ipv4_tcp(m) || (tcp_of(d)->tcp_flags & RTE_TCP_ACK_FLAG) == 0;
            drop[nd++] = m;
        }
    }
    if (nd > 0) {
        rte_pktmbuf_free_bulk(drop, nd);
    }
    _out.flush();
    bump(out.synacks, synacks);
    bump(out.freed, nd - other);
    bump(out.other, other);
    out.refused.store(_out.dropped, std::memory_order_relaxed);
}

} // namespace fg::e2e
