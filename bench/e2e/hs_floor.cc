#include "hs_floor.hh"

#include <algorithm>
#include <cstring>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>

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
}

hs_floor_client::~hs_floor_client()
{
    if (_np > 0) {
        rte_pktmbuf_free_bulk(_pend, _np);
    }
}

void hs_floor_client::step(hs_floor_stats& out)
{
    rte_mbuf* rx[burst];
    const uint16_t n = rte_eth_rx_burst(_c.port_id, 0, rx, burst);
    uint64_t done = 0;
    uint64_t other = 0;
    uint64_t no_mbuf = 0;
    if (n > 0) {
        for (uint16_t i = 0; i < n; i++) {
            rte_prefetch0(rte_pktmbuf_mtod(rx[i], void*));
        }
        rte_mbuf* rst[burst];
        const bool have_rst = rte_pktmbuf_alloc_bulk(_c.pool, rst, n) == 0;
        uint16_t used = 0;
        for (uint16_t i = 0; i < n; i++) {
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
            _pend[_np++] = m;
            done++;
            // The RST from its template.
            if (!have_rst) {
                no_mbuf++;
                continue;
            }
            rte_mbuf* r = rst[used++];
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
            _pend[_np++] = r;
        }
        if (have_rst && used < n) {
            rte_pktmbuf_free_bulk(rst + used, n - used);
        }
        _in_flight -= std::min<uint64_t>(_in_flight, done);
    }
    // New SYNs up to the window, while the tx backlog is small.
    if (_in_flight < _c.window && _np <= pend_cap - 3 * burst) {
        const uint32_t want = uint32_t(std::min<uint64_t>(burst, _c.window - _in_flight));
        rte_mbuf* fresh[burst];
        if (rte_pktmbuf_alloc_bulk(_c.pool, fresh, want) == 0) {
            for (uint32_t i = 0; i < want; i++) {
                uint8_t* d = rte_pktmbuf_mtod(fresh[i], uint8_t*);
                std::memcpy(d, _syn, _syn_len);
                const uint64_t k = _next++;
                ip_of(d)->src_addr = rte_cpu_to_be_32(ipv4(198, 18, 1, 0) + uint32_t(k % _c.src_ips));
                tcp_of(d)->src_port = rte_cpu_to_be_16(uint16_t(1024 + (k / _c.src_ips) % 64000));
                tcp_of(d)->sent_seq = rte_cpu_to_be_32(uint32_t(k * 2654435761u));
                fresh[i]->data_len = uint16_t(_syn_len);
                fresh[i]->pkt_len = _syn_len;
                _pend[_np++] = fresh[i];
            }
            _in_flight += want;
            bump(out.syns, want);
        } else {
            no_mbuf++;
        }
    }
    if (_np > 0) {
        const uint16_t sent = rte_eth_tx_burst(_c.port_id, 0, _pend, uint16_t(_np));
        if (sent < _np) {
            std::memmove(_pend, _pend + sent, (_np - sent) * sizeof(rte_mbuf*));
        }
        _np -= sent;
    }
    bump(out.handshakes, done);
    bump(out.other, other);
    bump(out.no_mbuf, no_mbuf);
}

void hs_floor_respond_step(uint16_t port_id, hs_floor_stats& out)
{
    rte_mbuf* rx[burst];
    const uint16_t n = rte_eth_rx_burst(port_id, 0, rx, burst);
    if (n == 0) {
        return;
    }
    for (uint16_t i = 0; i < n; i++) {
        rte_prefetch0(rte_pktmbuf_mtod(rx[i], void*));
    }
    rte_mbuf* tx[burst];
    rte_mbuf* drop[burst];
    uint16_t nt = 0;
    uint16_t nd = 0;
    uint64_t other = 0;
    for (uint16_t i = 0; i < n; i++) {
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
            tx[nt++] = m;
        } else {
            other += !ipv4_tcp(m) || (tcp_of(d)->tcp_flags & RTE_TCP_ACK_FLAG) == 0;
            drop[nd++] = m;
        }
    }
    if (nd > 0) {
        rte_pktmbuf_free_bulk(drop, nd);
    }
    const uint16_t sent = nt > 0 ? rte_eth_tx_burst(port_id, 0, tx, nt) : 0;
    if (sent < nt) {
        rte_pktmbuf_free_bulk(tx + sent, nt - sent);
    }
    bump(out.synacks, sent);
    bump(out.freed, nd - other);
    bump(out.other, other);
    bump(out.refused, nt - sent);
}

} // namespace fg::e2e
