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

// Where the frame of an mbuf from `pool` starts, as an offset from the mbuf's
// address: a pool's mbufs are laid out header, private area, buffer, and
// data_off is the headroom after a reset or a receive. Lets a prefetch of the
// frame go out without waiting for the header line that holds buf_addr.
inline uint32_t frame_offset(rte_mempool* pool)
{
    return uint32_t(sizeof(rte_mbuf)) + (pool != nullptr ? rte_pktmbuf_priv_size(pool) : 0) +
           RTE_PKTMBUF_HEADROOM;
}

// The lines of a frame, for writing: both mbuf lines (lengths and flags; the
// tx offload fields and m->next) and the first two data lines (the headers,
// options included), at `data_at` = frame_offset(its pool) from the mbuf --
// guessed, so the data prefetch need not wait for header line 0 (a wrong
// guess costs only the benefit). Frames that come from the other core (a
// ring pair, a pool it frees into) have those lines Modified there: a plain
// prefetch brings them Shared and every store then waits again.
FG_ALWAYS_INLINE void prefetch_frame(const rte_mbuf* m, uint32_t data_at)
{
    const char* h = reinterpret_cast<const char*>(m);
    prefetch_w(h);
    prefetch_w(h + RTE_CACHE_LINE_SIZE);
    prefetch_w(h + data_at);
    prefetch_w(h + data_at + RTE_CACHE_LINE_SIZE);
}

// Received frames are prefetched this many ahead of the one handled: each is
// four lines, and L1 keeps only 10-16 misses in flight -- a whole burst's
// headers issued at once (64 lines) stalled on the prefetches themselves.
inline constexpr unsigned rx_prefetch_ahead = 4;

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

    pkt_out() = default;
    pkt_out(const pkt_out&) = delete;
    pkt_out& operator=(const pkt_out&) = delete;
    ~pkt_out() { release_stash(); } // the pool outlives its users

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

    // A new frame. From a small per-lcore stash of raw mbufs, taken from the
    // pool 32 at a time, whose next few are kept prefetched for writing (both
    // header lines and the first two data lines) and reset only when taken:
    // by then their lines are here, Exclusive. Straight from the pool
    // (rte_pktmbuf_alloc), every SYN and RST the generator builds was a chain
    // of store misses on lines the other lcore freed last.
    FG_ALWAYS_INLINE rte_mbuf* alloc()
    {
        if (FG_UNLIKELY(st_n <= stash_ahead)) {
            refill();
            if (FG_UNLIKELY(st_n == 0)) {
                return nullptr;
            }
        }
        rte_mbuf* m = stash[st_head];
        st_head = (st_head + 1) & (stash_max - 1);
        st_n--;
        if (FG_LIKELY(st_n >= stash_ahead)) {
            prefetch_raw(stash[(st_head + stash_ahead - 1) & (stash_max - 1)]); // the window moves on by one
        }
        rte_pktmbuf_reset(m);
        return m;
    }

    // Gives the stash back to the pool (the lcore's loop ends): every mbuf
    // is then where rte_mempool_avail_count sees it.
    void release_stash()
    {
        while (st_n != 0) {
            const uint32_t run = st_head + st_n <= stash_max ? st_n : stash_max - st_head;
            rte_mempool_put_bulk(pool, reinterpret_cast<void* const*>(&stash[st_head]), run);
            st_head = (st_head + run) & (stash_max - 1);
            st_n -= run;
        }
        st_head = 0;
    }
    uint32_t stashed() const { return st_n; }

private:
    static constexpr uint32_t stash_max = 64;    // a power of two
    static constexpr uint32_t stash_refill = 32; // taken from the pool at a time
    static constexpr uint32_t stash_ahead = 4;   // entries kept prefetched: 16 lines, what L1 keeps in flight
    rte_mbuf* stash[stash_max];
    uint32_t st_head = 0;
    uint32_t st_n = 0;
    uint32_t data_at = 0; // frame_offset(pool), set by refill()

    FG_ALWAYS_INLINE void prefetch_raw(const rte_mbuf* m) const
    {
        prefetch_frame(m, data_at); // rte_pktmbuf_reset writes next and tx_offload (line 1)
    }

    // Called with at most stash_ahead left (so every one left is prefetched).
    __attribute__((noinline)) void refill()
    {
        if (pool == nullptr) {
            return;
        }
        data_at = frame_offset(pool);
        void* got[stash_refill];
        uint32_t k = stash_refill;
        if (rte_mempool_get_bulk(pool, got, stash_refill) != 0) {
            // Fewer than 32 left: one, as rte_pktmbuf_alloc would take.
            k = rte_mempool_get(pool, &got[0]) == 0 ? 1 : 0;
        }
        for (uint32_t i = 0; i < k; i++) {
            const uint32_t at = st_n + i;
            stash[(st_head + at) & (stash_max - 1)] = static_cast<rte_mbuf*>(got[i]);
            if (at < stash_ahead) {
                prefetch_raw(static_cast<rte_mbuf*>(got[i]));
            }
        }
        st_n += k;
    }

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
