// The neighbour (ARP) table: IPv4 next hop -> Ethernet address, with the
// states Linux uses (incomplete, reachable, stale, failed, static), a bounded
// queue of packets per entry waiting for resolution, request retransmission
// and expiry. It never sends or frees a packet itself: every call returns, or
// calls back with, what the caller must do (send a request, transmit these
// queued packets now, free these), so it runs without EAL and is unit tested
// with plain pointers.
//
// One table per lcore, not one shared table. Every write happens on the hot
// path (learning, queueing, state changes), and the packets queued in an
// entry belong to the lcore that built them; a shared table would need locks
// or atomics on each of those and would hand mbufs across lcores. The price:
// each lcore resolves a neighbour by itself (one request per lcore, a handful
// of neighbours in practice: the gateway), and ARP frames, which RSS does not
// spread, must reach every lcore: the lcore that receives one passes
// (sender ip, sender mac, kind) to the others through their command rings.
//
// Layout: entries are 32 bytes in one flat array (free list through `next`),
// found through an open-addressing index of {ip, entry} pairs kept at most
// half full (linear probing, backward-shift delete): a hit is one hash, one
// index cache line and one entry cache line. rte_hash would do the same with
// EAL memory, which the unit tests must not need. Queued packets live in one
// flat array, `queue_len` slots per entry. Incomplete entries sit on a FIFO
// list ordered by their last request, so tick() touches only the ones due;
// failed and idle entries are freed by a bounded incremental sweep per tick.
//
// Behaviour mirrors Linux (net/core/neighbour.c, net/ipv4/arp.c) with its
// defaults: 3 requests 1 s apart then failed (mcast_solicit, retrans_time),
// reachable for 30 s after a reply (base_reachable_time), a stale entry is
// still used and re-probed (up to 3 probes, then resolved afresh), entries
// are learned from replies to us and from requests addressed to us (as
// STALE), other ARP (gratuitous, unsolicited) only updates known entries
// (arp_accept=0), static entries ignore ARP. When a queue is full the oldest
// packet is dropped, as __neigh_event_send does. Differences: a failed entry
// refuses packets for failed_hold_ms before a new round of requests (Linux
// restarts on the next packet), so a dead gateway costs one fast refusal per
// packet instead of a queue that fills and fails every 3 s.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <rte_ether.h>

#include "base/compiler.hh"

namespace fg::route {

#define FG_FOREACH_NEIGH_STATE(X)                                                                                    \
    X(free, "unused slot")                                                                                           \
    X(incomplete, "request sent, no reply yet: packets queue")                                                      \
    X(reachable, "confirmed by a reply less than reachable_ms ago")                                                 \
    X(stale, "MAC known but unconfirmed: used, and re-probed")                                                      \
    X(failed, "no reply to max_tries requests: packets are refused for failed_hold_ms")                             \
    X(permanent, "static entry from config: never expires, ARP never changes it")

enum class neigh_state : uint8_t {
#define FG_X(name, desc) name,
    FG_FOREACH_NEIGH_STATE(FG_X)
#undef FG_X
};
const char* neigh_state_name(neigh_state s);

// What resolve() tells the caller to do.
#define FG_FOREACH_NEIGH_ACTION(X)                                                                                   \
    X(mac_known, "transmit the packet now to result.mac")                                                           \
    X(mac_known_send_request, "transmit the packet now to result.mac and send an ARP request (re-confirm)")         \
    X(queued_send_request, "packet queued: send an ARP request for the address now")                                \
    X(queued, "packet queued behind a request already sent")                                                        \
    X(queued_dropped_oldest, "packet queued, queue was full: free result.drop (the oldest)")                        \
    X(failed, "neighbour unreachable: free the packet")                                                             \
    X(table_full, "no free entry for a new neighbour: free the packet")

enum class neigh_action : uint8_t {
#define FG_X(name, desc) name,
    FG_FOREACH_NEIGH_ACTION(FG_X)
#undef FG_X
};
const char* neigh_action_name(neigh_action a);

#define FG_FOREACH_NEIGH_COUNTER(X)                                                                                  \
    X(hits, "resolve() found a usable MAC")                                                                          \
    X(misses, "resolve() created an entry and started resolution")                                                  \
    X(requests, "ARP requests asked of the caller: first, retransmits, probes")                                     \
    X(retransmits, "requests re-sent by tick() for incomplete entries")                                             \
    X(probes, "requests to re-confirm a stale entry")                                                               \
    X(queued, "packets queued waiting for resolution")                                                              \
    X(queue_full_drops, "queued packets dropped (the oldest) because the entry's queue was full")                   \
    X(resolved, "incomplete entries resolved by ARP")                                                               \
    X(drained, "queued packets handed back for transmission")                                                       \
    X(failures, "entries that went failed after max_tries requests")                                                \
    X(failed_drops, "queued packets handed back for freeing because resolution failed")                             \
    X(failed_refusals, "packets refused because their neighbour is failed")                                         \
    X(table_full_drops, "packets refused because no entry was free")                                                \
    X(confirmed, "entries made reachable by an ARP reply to us")                                                    \
    X(learned, "entries created from ARP requests addressed to us")                                                 \
    X(updated, "existing entries refreshed by other ARP")                                                           \
    X(mac_changes, "ARP that changed a known MAC")                                                                  \
    X(ignored_static, "ARP about a static entry, ignored")                                                          \
    X(ignored_unknown, "ARP about an unknown neighbour, not a request to us, ignored")                              \
    X(ignored_bad_sender, "ARP with a zero/multicast/broadcast sender IP or MAC, ignored")                          \
    X(learn_table_full, "learning skipped because no entry was free")                                               \
    X(expired, "failed or idle entries freed by tick()")

struct neigh_counters {
#define FG_X(name, desc) uint64_t name = 0;
    FG_FOREACH_NEIGH_COUNTER(FG_X)
#undef FG_X

    // fn(const char* name, const char* description, uint64_t value) for each
    // counter, in list order: telemetry and stats dumps.
    template <class Fn>
    void visit(Fn&& fn) const
    {
#define FG_X(name, desc) fn(#name, desc, name);
        FG_FOREACH_NEIGH_COUNTER(FG_X)
#undef FG_X
    }
};

// How an ARP frame concerns us; the caller classifies it (target IP local?).
enum class arp_kind : uint8_t {
    reply_to_us,   // ARP reply whose target IP is ours: confirms the sender (reachable)
    request_to_us, // ARP request whose target IP is ours: learn the sender (stale)
    other,         // gratuitous ARP, requests for others, replies to others: update known entries only
};

enum class arp_outcome : uint8_t {
    resolved,           // an incomplete entry got its MAC; its queue was drained
    confirmed,          // a known entry was confirmed / updated
    created,            // a new entry (stale) from a request to us
    ignored_static,     // static entries do not change
    ignored_unknown,    // not a neighbour we know, and not a request to us
    ignored_bad_sender, // zero / multicast / broadcast sender
    table_full,         // would have learned, no free entry
};

struct neigh_config {
    uint32_t max_entries = 1024;    // per lcore; a client talks to one gateway, a server on a LAN to its hosts
    uint16_t queue_len = 16;        // packets per unresolved entry; SYNs of the first connects to a new next hop
    uint8_t max_tries = 3;          // Linux mcast_solicit (and ucast_solicit for stale probes)
    uint32_t retrans_ms = 1000;     // Linux retrans_time
    uint32_t reachable_ms = 30000;  // Linux base_reachable_time
    uint32_t failed_hold_ms = 1000; // how long a failed entry refuses packets before a new round of requests
    uint32_t gc_stale_ms = 60000;   // Linux gc_stale_time: unused entries are freed after this
    uint32_t gc_sweep = 64;         // entries examined per tick() for expiry: bounded work per call
};

struct resolve_result {
    neigh_action action;
    rte_ether_addr mac; // valid for mac_known*
    void* drop;         // queued_dropped_oldest: the packet the caller must free
};

// A read-only view of one entry, for tests and listings.
struct neigh_view {
    neigh_state state;
    rte_ether_addr mac;
    uint16_t queued;
    uint8_t tries;
};

class neigh_table {
public:
    // Validates the config (non-zero sizes and times, max_entries <= 1M,
    // queue_len <= 4096) and allocates everything up front.
    static std::unique_ptr<neigh_table> create(const neigh_config& cfg, std::string& error);
    neigh_table(const neigh_table&) = delete;
    neigh_table& operator=(const neigh_table&) = delete;

    // Per outgoing packet: the MAC of next hop `ip` (network order), or what to
    // do instead. `pkt` is queued on an unresolved entry (the table then owns
    // it until it comes back through on_arp's drain, tick's fail, or
    // result.drop); it is not taken on mac_known*, failed or table_full. A null
    // `pkt` starts resolution without queueing.
    resolve_result resolve(rte_be32_t ip, void* pkt, uint32_t now_ms)
    {
        const uint32_t i = index_of(ip);
        if (const rte_ether_addr* mac = usable(i, now_ms); FG_LIKELY(mac != nullptr)) {
            return resolve_result{neigh_action::mac_known, *mac, nullptr};
        }
        return resolve_slow(i, ip, pkt, now_ms);
    }

    // resolve()'s fast path alone: the MAC of `ip` when it is usable as is
    // (permanent, or reachable and confirmed within reachable_ms), marked
    // used and counted a hit as resolve() does; else nullptr, and the caller
    // calls resolve(). For a caller that copies the MAC straight into a
    // frame: resolve_result, built in memory field by field and copied whole,
    // stalled on store forwarding (perf: ~a quarter of l2_send's samples).
    const rte_ether_addr* usable_mac(rte_be32_t ip, uint32_t now_ms) { return usable(index_of(ip), now_ms); }

    // An ARP frame from `ip`/`mac` (network order). If it resolves an
    // incomplete entry, `drain(void* pkt, const rte_ether_addr& mac)` is called
    // for each queued packet in the order they were queued: transmit them.
    template <class Drain>
    arp_outcome on_arp(rte_be32_t ip, const rte_ether_addr& mac, arp_kind kind, uint32_t now_ms, Drain&& drain)
    {
        uint32_t i = none;
        const arp_outcome o = learn(ip, mac, kind, now_ms, i);
        if (o == arp_outcome::resolved) {
            entry& e = _entries[i];
            _ctr.drained += e.q_len;
            hand_back(e, [&](void* p) { drain(p, e.mac); });
        }
        return o;
    }

    // Timers: call every few ms. `send_request(rte_be32_t ip)` for each
    // retransmission due; an entry out of tries goes failed and
    // `fail(void* pkt)` is called for each of its queued packets: free them.
    template <class Send, class Fail>
    void tick(uint32_t now_ms, Send&& send_request, Fail&& fail)
    {
        while (_pend_head != none) {
            entry& e = _entries[_pend_head];
            if (now_ms - e.timer_ms < _cfg.retrans_ms) {
                break;
            }
            if (e.tries < _cfg.max_tries) {
                retransmit(e, now_ms);
                send_request(e.ip);
            } else {
                mark_failed(e, now_ms); // first, so a callback that resolves again sees it failed
                hand_back(e, fail);
            }
        }
        sweep(now_ms);
    }

    // A static entry (config): never expires, never changed by ARP. Turns an
    // existing dynamic entry static; its queued packets, if any, go to
    // `drain` as in on_arp. False + message if the address or MAC is not
    // unicast or the table is full.
    template <class Drain>
    bool add_static(rte_be32_t ip, const rte_ether_addr& mac, std::string& error, Drain&& drain)
    {
        uint32_t i = none;
        if (!make_static(ip, mac, error, i)) {
            return false;
        }
        _ctr.drained += _entries[i].q_len;
        hand_back(_entries[i], [&](void* p) { drain(p, mac); });
        return true;
    }
    bool add_static(rte_be32_t ip, const rte_ether_addr& mac, std::string& error)
    {
        return add_static(ip, mac, error, [](void*, const rte_ether_addr&) {});
    }

    std::optional<neigh_view> find(rte_be32_t ip) const;
    const neigh_counters& counters() const { return _ctr; }
    uint32_t size() const { return _used; }
    const neigh_config& config() const { return _cfg; }

private:
    static constexpr uint32_t none = UINT32_MAX;

    struct entry {
        rte_be32_t ip;       // key; 0 when free
        uint32_t timer_ms;   // incomplete: last request; reachable: confirmation; stale: last probe; failed: failure
        uint32_t used_ms;    // last resolve() that used it, for expiry
        uint32_t prev;       // pending list (incomplete entries), oldest request first
        uint32_t next;       // pending list, or free list
        rte_ether_addr mac;  // valid unless incomplete / failed
        uint8_t state;       // neigh_state
        uint8_t tries;       // requests sent this round (incomplete) / probes sent (stale)
        uint16_t q_head;     // first queued packet in this entry's queue slots
        uint16_t q_len;      // queued packets
    };
    static_assert(sizeof(entry) == 32, "two entries per cache line");

    struct slot {
        rte_be32_t ip; // 0: empty
        uint32_t idx;  // entry index
    };

    explicit neigh_table(const neigh_config& cfg);

    uint32_t index_of(rte_be32_t ip) const
    {
        uint32_t h = hash(ip);
        while (true) {
            const slot& s = _slots[h];
            if (s.ip == 0) {
                return none;
            }
            if (s.ip == ip) {
                return s.idx;
            }
            h = (h + 1) & _slot_mask;
        }
    }
    uint32_t hash(rte_be32_t ip) const { return uint32_t((uint64_t(ip) * 0x9E3779B97F4A7C15ull) >> 32) & _slot_mask; }

    FG_COLD resolve_result resolve_slow(uint32_t i, rte_be32_t ip, void* pkt, uint32_t now_ms);
    FG_ALWAYS_INLINE const rte_ether_addr* usable(uint32_t i, uint32_t now_ms)
    {
        if (FG_LIKELY(i != none)) {
            entry& e = _entries[i];
            if (FG_LIKELY(e.state == uint8_t(neigh_state::permanent) ||
                          (e.state == uint8_t(neigh_state::reachable) && now_ms - e.timer_ms < _cfg.reachable_ms))) {
                e.used_ms = now_ms;
                _ctr.hits++;
                return &e.mac;
            }
        }
        return nullptr;
    }
    arp_outcome learn(rte_be32_t ip, const rte_ether_addr& mac, arp_kind kind, uint32_t now_ms, uint32_t& idx);
    bool make_static(rte_be32_t ip, const rte_ether_addr& mac, std::string& error, uint32_t& idx);
    void retransmit(entry& e, uint32_t now_ms);
    void mark_failed(entry& e, uint32_t now_ms);
    void sweep(uint32_t now_ms);

    uint32_t alloc(rte_be32_t ip, uint32_t now_ms); // none if full
    void release(uint32_t i);
    void pend_push(uint32_t i);
    void pend_unlink(uint32_t i);
    void* enqueue(entry& e, void* pkt); // returns the dropped oldest, if any
    void** queue_of(const entry& e) { return &_queue[std::size_t(&e - _entries.get()) * _cfg.queue_len]; }

    // Empties e's queue in FIFO order through fn(void*); counts nothing.
    template <class Fn>
    void hand_back(entry& e, Fn&& fn)
    {
        void** q = queue_of(e);
        while (e.q_len != 0) {
            void* p = q[e.q_head];
            e.q_head = uint16_t(e.q_head + 1 == _cfg.queue_len ? 0 : e.q_head + 1);
            e.q_len--;
            fn(p);
        }
        e.q_head = 0;
    }

    neigh_config _cfg;
    neigh_counters _ctr;
    std::unique_ptr<entry[]> _entries;
    std::unique_ptr<slot[]> _slots;
    std::unique_ptr<void*[]> _queue;
    uint32_t _slot_mask = 0;
    uint32_t _free_head = none;
    uint32_t _pend_head = none;
    uint32_t _pend_tail = none;
    uint32_t _used = 0;
    uint32_t _sweep_pos = 0;
};

} // namespace fg::route
