// A fault-injecting wrapper on a port's receive side: drops, duplicates,
// reorders and delays a chosen share of the frames a port delivers, so a
// stack on that port sees a lossy, reordering network without changing a
// line of the stack. What netem would do on a Linux link, for ports no
// kernel sits behind (ring pairs, virtio pairs, any ethdev).
//
// How it sits between the stack and the port: an ethdev rx callback
// (rte_eth_add_rx_callback) on every queue of the port. The stack's loop
// calls rte_eth_rx_burst as always; DPDK hands the burst to the callback
// before returning it, and the callback rewrites the burst in place. One
// direction of a ring pair is the rx side of one of its ports, so each
// direction gets its own injector and its own shares:
//
//   stack A  --tx-->  ring  --rx [injector on B]-->  stack B
//   stack A  <--rx [injector on A]--  ring  <--tx--  stack B
//
// What happens to each received frame, decided in this order with one draw
// of the queue's own seeded generator per decision (so a run that delivers
// the same frames in the same order makes the same decisions):
//   drop       freed at once (counted dropped).
//   duplicate  delivered, and a copy (rte_pktmbuf_copy, a frame of its
//              own: the stack rewrites received frames in place for its
//              replies) is delivered right behind it.
//   reorder    held back until a later frame has been delivered on the
//              queue, then delivered behind it (or after reorder_max_us if
//              nothing else arrives): the frame swaps places with at least
//              one successor.
//   delay      held for delay_us, then delivered (frames behind it overtake
//              it if they arrive meanwhile).
// Held frames wait in a per-queue array of hold_max; when it is full a
// frame that should wait is delivered at once (counted hold_full). The
// callback releases due frames on every rx_burst, empty ones included, so
// the lcore's polling drains them.
//
// Threading: each queue's state is touched only by the lcore polling that
// queue (DPDK calls the callback from rx_burst); counters are read relaxed
// by any thread. Create the injector before the lcores poll and destroy it
// after they stopped (and before the port closes): the destructor removes
// the callbacks and frees the frames still held.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

namespace fg::glue {

struct fault_config {
    double drop = 0;                 // share of frames freed, 0..1
    double duplicate = 0;            // share of delivered frames delivered twice
    double reorder = 0;              // share held back behind at least one later frame
    double delay = 0;                // share held for delay_us
    uint32_t delay_us = 2000;        // how long a delayed frame waits
    uint32_t reorder_max_us = 1000;  // a reordered frame waits at most this long for a successor
    uint64_t seed = 1;               // per queue: seed ^ (port << 16 | queue), mixed
    uint32_t hold_max = 4096;        // frames held (reorder + delay) per queue at most

    // Shares in [0, 1] (they need not add up to 1 or less: each is drawn
    // on its own, in the order above), times and hold_max > 0. False with
    // a message otherwise.
    bool valid(std::string& error) const;
};

// X(name, "what it counts"): per queue, summed by fault_injector::totals().
#define FG_FOREACH_FAULT_COUNTER(X)                                                                                \
    X(frames, "frames the port delivered to the injector")                                                         \
    X(dropped, "frames freed (drop share)")                                                                        \
    X(duplicated, "copies delivered behind their original (duplicate share)")                                      \
    X(dup_failed, "copies not made: the mbuf pool was empty")                                                       \
    X(reordered, "frames held back behind a later frame (reorder share)")                                          \
    X(delayed, "frames held for delay_us (delay share)")                                                           \
    X(hold_full, "frames that should have waited but were delivered at once: hold_max frames already held")       \
    X(released, "held frames delivered")                                                                           \
    X(freed_held, "held frames freed when the injector was destroyed")

struct fault_counters {
#define FG_X(name, doc) uint64_t name = 0;
    FG_FOREACH_FAULT_COUNTER(FG_X)
#undef FG_X
};

class fault_injector {
public:
    // Attaches to every one of `n_queues` rx queues of `port_id`. nullptr
    // with `error` on a bad config or if DPDK refuses the callback.
    static std::unique_ptr<fault_injector> attach(uint16_t port_id, uint16_t n_queues, const fault_config& cfg,
                                                  std::string& error);
    ~fault_injector();
    fault_injector(const fault_injector&) = delete;
    fault_injector& operator=(const fault_injector&) = delete;

    // Summed over the queues; any thread (relaxed reads).
    fault_counters totals() const;
    // Frames held right now over the queues (from the counters: any thread;
    // exact once the lcores stopped).
    uint64_t held() const;
    uint16_t port() const { return _port; }

private:
    struct held_frame {
        rte_mbuf* m;
        uint64_t due_tsc;
        uint64_t after_seq;   // reorder: deliver only once a frame with a higher sequence went out
    };
    struct alignas(64) queue_state {
        fault_injector* owner = nullptr;
        uint16_t queue = 0;
        uint64_t rng = 0;
        uint64_t seq = 0;             // fresh frames delivered so far (reorder's successor test)
        std::vector<held_frame> hold; // capacity hold_max, unordered
        fault_counters ctr;
        const rte_eth_rxtx_callback* cb = nullptr;
    };

    fault_injector() = default;
    static uint16_t on_rx(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n, uint16_t max, void* arg);
    uint16_t rx(queue_state& q, rte_mbuf** pkts, uint16_t n, uint16_t max);
    static double uniform(uint64_t& s);
    static void inc(uint64_t& c, uint64_t n = 1) { __atomic_store_n(&c, c + n, __ATOMIC_RELAXED); }

    uint16_t _port = 0;
    fault_config _cfg;
    uint64_t _delay_tsc = 0;
    uint64_t _reorder_tsc = 0;
    std::vector<std::unique_ptr<queue_state>> _q;
};

} // namespace fg::glue
