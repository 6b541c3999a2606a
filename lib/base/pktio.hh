// Per-lcore packet output: a tx batch in front of one ethdev tx queue, as in
// DPDK's l2fwd (rte_eth_tx_buffer does the same; ours inlines the fast path
// and counts what the NIC refused). Everything that transmits on an lcore --
// ARP, ICMP, TCP -- pushes here; the loop flushes on a TSC deadline or when
// the batch is full.
#pragma once

#include <cstdint>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "base/compiler.hh"

namespace fg {

struct pkt_out {
    static constexpr uint16_t batch = 32; // l2fwd's MAX_PKT_BURST: one tx doorbell per 32 frames

    uint16_t port = 0;
    uint16_t queue = 0;
    uint16_t n = 0;
    bool tx_ip_cksum = false;  // port offloads the IPv4 header checksum
    bool tx_tcp_cksum = false; // port offloads the TCP checksum
    rte_mempool* pool = nullptr; // where new frames come from
    uint64_t sent = 0;         // frames the NIC took
    uint64_t dropped = 0;      // frames the NIC refused (queue full): freed and counted
    rte_mbuf* pkts[batch];

    FG_ALWAYS_INLINE void push(rte_mbuf* m)
    {
        pkts[n++] = m;
        if (FG_UNLIKELY(n == batch)) {
            flush();
        }
    }

    void flush()
    {
        if (n == 0) {
            return;
        }
        const uint16_t done = rte_eth_tx_burst(port, queue, pkts, n);
        sent += done;
        if (FG_UNLIKELY(done < n)) {
            dropped += n - done;
            rte_pktmbuf_free_bulk(&pkts[done], n - done);
        }
        n = 0;
    }

    rte_mbuf* alloc() { return rte_pktmbuf_alloc(pool); }
};

} // namespace fg
