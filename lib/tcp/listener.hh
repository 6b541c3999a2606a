// tcp::listener is one listen() call: the local address (or any) and port,
// the backlogs, the SYN-cookie mode, and the accept ring through which
// established connections reach application threads. It is created and
// destroyed by the control thread (listen() / unlisten() below) and read by
// every lcore through the listener table (RCU) and the listener_registry.
//
// Linux keeps one request queue per listener bounded by the listen backlog
// (and tcp_max_syn_backlog). Here SYNs are steered to lcores by the 4-tuple
// hash, so each lcore keeps its own count of half-open requests for the
// listener and the syn_backlog is split evenly: each lcore may hold
// syn_share() = ceil(syn_backlog / n_lcores) requests (at least 1). Under a
// flood the hash spreads SYNs evenly, so the total stays close to
// syn_backlog; a lcore whose share is full answers with SYN cookies (mode
// auto) or drops (mode never) even if another lcore's share has room -- the
// price of keeping the count lcore-local (no shared atomics per SYN).
// Each lcore also remembers when it last sent a cookie for this listener
// (Linux tcp_synq_overflow), so cookie ACKs are checked only while cookies
// are recent.
//
// The accept ring is an rte_ring of tcp::event (MP/MC, RING_F_EXACT_SZ,
// capacity = backlog): lcores enqueue, application threads dequeue with
// accept_burst(). Like Linux's accept queue, a full ring makes the third ACK
// be ignored (counted), not block.
//
// Connections keep a 16-bit reference to their listener (conn::listener):
// 12 bits of registry index and 4 bits of generation, so a request that
// outlives an unlisten() does not land in a new listener that reused the
// index (unless 15 listen/unlisten cycles on that index happened within its
// lifetime, at most 63 s of SYN-ACK retries).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_byteorder.h>
#include <rte_ring.h>

#include "tcp/syncookie.hh"

namespace fg::table {
class listener_table;
}

namespace fg::tcp {

struct event; // engine.hh

// What happens to a connection once its handshake completes.
enum class accept_action : uint8_t {
    queue, // to the accept ring: an application thread takes it (Linux accept())
    hold,  // kept by the lcore, no application involved: a peer FIN is answered with our FIN
           // at once (an application that closes on EOF), an RST frees it. For responders
           // and load tests, where a ring message per connection costs too much.
    serve, // kept by the lcore and served there by the engine's passive_app (stream.hh: an
           // HTTP server); like hold when the engine has no passive_app.
};

struct listen_options {
    uint32_t backlog = 4096;     // accept ring capacity: Linux SOMAXCONN (4096 since 5.4)
    uint32_t syn_backlog = 4096; // half-open requests over all lcores: Linux bounds them by the backlog too
    syncookie_mode cookies = syncookie_mode::automatic; // Linux net.ipv4.tcp_syncookies default 1
    accept_action on_accept = accept_action::queue;
    // hold (and serve without an app): a held connection that receives
    // nothing for idle_timeout_ms (up to a quarter more: it is checked every
    // quarter) is closed with FIN, as an application would close an idle
    // keep-alive connection -- so a connection whose peer is gone (or that a
    // stale cookie ACK recreated after its close) cannot stay forever.
    // 0 = never (Linux has no such limit; an application sets one).
    uint32_t idle_timeout_ms = 0;
};

class listener {
public:
    static constexpr uint16_t max_lcores = 128; // RTE_MAX_LCORE's default: one share per possible lcore

    // What one lcore keeps about this listener; written only by that lcore.
    struct alignas(64) lcore_state {
        uint32_t syn_queue_len = 0; // half-open requests of this listener on this lcore
        cookie_recent recent;       // when this lcore last answered this listener with a cookie
    };

    // Creates the accept ring (EAL must be up). nullptr with `error` on failure.
    static std::unique_ptr<listener> create(rte_be32_t addr, rte_be16_t port, const listen_options& o,
                                            uint16_t n_lcores, std::string& error);
    ~listener();
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;

    rte_be32_t addr() const { return _addr; } // 0 = any local address
    rte_be16_t port() const { return _port; }
    const listen_options& options() const { return _opts; }
    syncookie_mode cookie_mode() const { return _opts.cookies; }
    uint32_t syn_share() const { return _syn_share; }
    uint16_t ref() const { return _ref; } // 0 until registered
    rte_ring* accept_ring() const { return _accept; }
    lcore_state& lcore(uint16_t i) { return _lcore[i]; }
    const lcore_state& lcore(uint16_t i) const { return _lcore[i]; }

    // Application threads: up to n accepted connections (any thread, lock-free).
    unsigned accept_burst(event* out, unsigned n);
    // Connections waiting in the accept ring.
    unsigned accept_pending() const { return rte_ring_count(_accept); }
    // Sum of every lcore's half-open requests (racy read, for stats).
    uint32_t syn_queue_total() const;

private:
    friend class listener_registry;
    listener() = default;

    rte_be32_t _addr = 0;
    rte_be16_t _port = 0;
    uint16_t _ref = 0;
    uint32_t _syn_share = 1;
    listen_options _opts;
    rte_ring* _accept = nullptr;
    lcore_state _lcore[max_lcores];
};

// listener ref -> listener, for connections that must find their listener
// again (third ACK, request expiry). Written by the control thread, read by
// lcores; removal is made safe by the listener table's RCU grace period (the
// caller frees a listener only after it).
class listener_registry {
public:
    static constexpr uint32_t index_bits = 12;                  // 4096 listeners: plenty for one host
    static constexpr uint32_t max_listeners = 1u << index_bits;
    static constexpr uint32_t gen_mask = 0xf;                   // 4 generation bits; gen 0 is never used (ref 0 = none)

    listener_registry();
    // Control thread: gives l a ref and publishes it. False if all slots are taken.
    bool add(listener& l);
    // Control thread: unpublishes l (lcores see nullptr from now on).
    void remove(const listener& l);

    // Any lcore: the listener with this ref, or nullptr if it is gone.
    listener* get(uint16_t ref) const
    {
        listener* l = _slots[ref & (max_listeners - 1)].load(std::memory_order_acquire);
        return l != nullptr && l->_ref == ref ? l : nullptr;
    }
    uint32_t size() const { return _n; }

private:
    std::unique_ptr<std::atomic<listener*>[]> _slots;
    std::unique_ptr<uint8_t[]> _gen; // last generation used per index
    uint32_t _next = 1;              // round-robin index search start: delays reuse of an index
    uint32_t _n = 0;
};

// Control thread: listen(addr or 0 for any, port, options) as Linux's
// bind() + listen(): creates the listener, gives it a registry ref and
// publishes it in the listener table (listening binding, id = ref, user =
// the listener). Returns nullptr with `err` = -EADDRINUSE (an overlapping
// listener or binding exists), -EINVAL (port 0, bad options), -ENOSPC (no
// registry slot) or -ENOMEM, and a message.
std::unique_ptr<listener> listen(table::listener_table& table, listener_registry& registry, rte_be32_t addr,
                                 rte_be16_t port, const listen_options& o, uint16_t n_lcores, int& err,
                                 std::string& message);

// Control thread (not an lcore that reads the table): unpublishes l (table
// and registry), waits for the table's RCU grace period, then takes what is
// left in the accept ring into `orphans` (if not null): connections nobody
// accepted; the caller should abort them (Linux inet_csk_listen_stop resets
// them). Requests still in SYN-RECEIVED on the lcores find their listener
// gone and are dropped (listener_gone). The caller may then destroy l.
// Returns 0 or -ENOENT if l was not listening.
int unlisten(table::listener_table& table, listener_registry& registry, listener& l, std::vector<event>* orphans);

} // namespace fg::tcp
