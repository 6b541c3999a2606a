#include "harness.hh"

#include <cstring>

#include <rte_icmp.h>
#include <rte_ip.h>

#include "net/checksum.hh"
#include "net/ether.hh"
#include "net/ipv4.hh"

namespace fg::eal_test {

uint32_t make_icmp_echo_request(uint8_t* buf, const rte_ether_addr& src_mac, const rte_ether_addr& dst_mac,
                                uint32_t src_ip, uint32_t dst_ip, uint16_t id, uint16_t seq, const uint8_t* payload,
                                uint16_t payload_len)
{
    net::write_eth(buf, dst_mac, src_mac, RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(buf + sizeof(rte_ether_hdr));
    const uint16_t icmp_len = uint16_t(sizeof(rte_icmp_hdr) + payload_len);
    net::write_ipv4_hdr(ip, uint16_t(net::ipv4_hdr_len + icmp_len), IPPROTO_ICMP, rte_cpu_to_be_32(src_ip),
                        rte_cpu_to_be_32(dst_ip));
    net::set_ipv4_cksum(ip);
    auto* icmp = reinterpret_cast<rte_icmp_hdr*>(reinterpret_cast<uint8_t*>(ip) + net::ipv4_hdr_len);
    icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
    icmp->icmp_code = 0;
    icmp->icmp_cksum = 0;
    icmp->icmp_ident = rte_cpu_to_be_16(id);
    icmp->icmp_seq_nb = rte_cpu_to_be_16(seq);
    std::memcpy(icmp + 1, payload, payload_len);
    icmp->icmp_cksum = net::icmp_cksum(icmp, icmp_len);
    return uint32_t(sizeof(rte_ether_hdr)) + net::ipv4_hdr_len + icmp_len;
}

rte_mbuf* frame_mbuf(rte_mempool* pool, const uint8_t* frame, uint32_t len)
{
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
        return nullptr;
    }
    char* p = rte_pktmbuf_append(m, uint16_t(len));
    if (p == nullptr) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    std::memcpy(p, frame, len);
    return m;
}

rte_mbuf* tcp_mbuf(rte_mempool* pool, const rte_ether_addr& src_mac, const rte_ether_addr& dst_mac, const tuple4& t,
                   uint32_t seq, uint32_t ack, uint8_t flags, const net::tcp_options* opts)
{
    uint8_t buf[128];
    const uint32_t len = net::make_tcp_segment(buf, src_mac, dst_mac, t, seq, ack, flags, 64240, opts,
                                               net::cksum_mode::software);
    return frame_mbuf(pool, buf, len);
}

net::tcp_options linux_syn_options(uint32_t ts_val)
{
    net::tcp_options o;
    o.has_mss = true;
    o.mss = 1460;
    o.sack_ok = true;
    o.has_ts = true;
    o.ts_val = ts_val;
    o.ts_ecr = 0;
    o.has_wscale = true;
    o.wscale = 7;
    return o;
}

bool send_frame(uint16_t port, uint16_t queue, rte_mbuf* m)
{
    if (rte_eth_tx_burst(port, queue, &m, 1) == 1) {
        return true;
    }
    rte_pktmbuf_free(m);
    return false;
}

unsigned drain(uint16_t port, uint16_t queue, const std::function<void(const uint8_t*, uint32_t)>& seen)
{
    rte_mbuf* pkts[32];
    unsigned total = 0;
    uint16_t n;
    while ((n = rte_eth_rx_burst(port, queue, pkts, 32)) > 0) {
        for (uint16_t i = 0; i < n; i++) {
            seen(rte_pktmbuf_mtod(pkts[i], const uint8_t*), rte_pktmbuf_data_len(pkts[i]));
            rte_pktmbuf_free(pkts[i]);
        }
        total += n;
    }
    return total;
}

bool read_until(uint16_t port, uint16_t queue, const std::function<bool(const uint8_t*, uint32_t)>& match)
{
    bool found = false;
    wait_until([&] {
        drain(port, queue, [&](const uint8_t* f, uint32_t len) { found = match(f, len) || found; });
        return found;
    });
    return found;
}

} // namespace fg::eal_test
