// Per-lcore packet output: a tx batch in front of one ethdev tx queue, as in
// DPDK's l2fwd (rte_eth_tx_buffer does the same; ours inlines the fast path),
// with a bounded backlog for what a full queue refuses (kept, sent first next
// time; dropped and counted only when the backlog is full too). Everything
// that transmits on an lcore -- ARP, ICMP, TCP -- pushes here; the loop
// flushes on a TSC deadline, when the batch is full, and every iteration
// while a backlog waits.
#pragma once

#include <cstdint>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "base/compiler.hh"

namespace fg {

struct pkt_out {
    static constexpr uint16_t batch = 32;         // l2fwd's MAX_PKT_BURST: one tx doorbell per 32 frames
    static constexpr uint32_t backlog_max = 2048; // frames kept when the tx queue is full (64 batches)

    uint16_t port = 0;
    uint16_t queue = 0;
    uint16_t n = 0;
    bool tx_ip_cksum = false;  // port offloads the IPv4 header checksum
    bool tx_tcp_cksum = false; // port offloads the TCP checksum
    rte_mempool* pool = nullptr; // where new frames come from
    uint64_t sent = 0;         // frames the NIC took
    uint64_t dropped = 0;      // frames lost: the queue was full and so was the backlog (freed, counted)
    uint64_t deferred = 0;     // frames the queue refused at first and the backlog kept (sent later)
    rte_mbuf* pkts[batch];

    // Frames the queue refused, oldest first, sent before anything newer:
    // like a qdisc in front of a full NIC ring, a short burst the queue
    // cannot take now (a full ring to the peer stack, a NIC momentarily
    // behind) is delayed, not lost. Only past backlog_max is a frame dropped.
    // The loop keeps new work back while the backlog is not empty.
    rte_mbuf* backlog[backlog_max];
    uint32_t bl_head = 0;
    uint32_t bl_n = 0;

    bool backlogged() const { return bl_n != 0; }

    FG_ALWAYS_INLINE void push(rte_mbuf* m)
    {
        if (FG_UNLIKELY(bl_n != 0)) {
            keep(&m, 1); // behind what waits already: order per queue is kept
            return;
        }
        pkts[n++] = m;
        if (FG_UNLIKELY(n == batch)) {
            flush();
        }
    }

    void flush()
    {
        if (FG_UNLIKELY(bl_n != 0)) {
            drain_backlog();
            if (bl_n != 0) {
                keep(pkts, n); // still full: the batch queues behind the backlog
                n = 0;
                return;
            }
        }
        if (n == 0) {
            return;
        }
        const uint16_t done = rte_eth_tx_burst(port, queue, pkts, n);
        sent += done;
        if (FG_UNLIKELY(done < n)) {
            keep(&pkts[done], uint32_t(n - done));
        }
        n = 0;
    }

    rte_mbuf* alloc() { return rte_pktmbuf_alloc(pool); }

private:
    void keep(rte_mbuf** m, uint32_t k)
    {
        const uint32_t room = backlog_max - bl_n;
        const uint32_t take = k < room ? k : room;
        for (uint32_t i = 0; i < take; i++) {
            backlog[(bl_head + bl_n + i) % backlog_max] = m[i];
        }
        bl_n += take;
        deferred += take;
        if (FG_UNLIKELY(take < k)) {
            dropped += k - take;
            rte_pktmbuf_free_bulk(&m[take], k - take);
        }
    }

    void drain_backlog()
    {
        while (bl_n != 0) {
            const uint32_t run = bl_head + bl_n <= backlog_max ? bl_n : backlog_max - bl_head; // contiguous part
            const uint16_t want = uint16_t(run < 512 ? run : 512);
            const uint16_t done = rte_eth_tx_burst(port, queue, &backlog[bl_head], want);
            sent += done;
            bl_head = (bl_head + done) % backlog_max;
            bl_n -= done;
            if (done < want) {
                return; // the queue is full again
            }
        }
        bl_head = 0;
    }
};

} // namespace fg
