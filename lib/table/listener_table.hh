// listener_table holds every bound and listening (address, port): the bind
// table of Linux's inet_bind_bucket and the listening hash in one. Control
// threads write it (bind, listen, close; one mutex, off the hot path); every
// lcore reads it on every SYN without a lock.
//
// Layout: 65536 pointers, one per port (indexed by the port's network-order
// value), each to a small immutable list of that port's bindings. A write
// copies the list, changes the copy and publishes it with one atomic store;
// readers see the old list or the new one, never a mix. The old list is
// retired with an rte_rcu_qsbr token and freed once every registered reader
// has reported a quiescent state since (reclaim() checks without blocking,
// synchronize() waits). Reader lcores register once and call quiescent()
// once per loop iteration; a const entry* from lookup() stays valid until
// the reader's next quiescent().
//
// Conflicts follow Linux's inet_bind_conflict() for IPv4 without
// SO_REUSEPORT (checked against this kernel: see tests/unit/table): two
// bindings of one port conflict when their addresses overlap (equal, or
// either is the wildcard 0) unless the new one has SO_REUSEADDR and the other
// one has it too and is not listening. listen() applies the same rule to the
// binding it turns into a listener, so a second listener on an overlapping
// address is refused even with SO_REUSEADDR, while a listener may coexist
// with non-listening SO_REUSEADDR bindings (Linux allows that too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include <rte_byteorder.h>
#include <rte_rcu_qsbr.h>

#include "base/mem.hh"

namespace fg::table {

class listener_table {
public:
    struct entry {
        rte_be32_t addr; // local address, 0 = any
        rte_be16_t port; // local port, never 0
        bool listening;  // accepting SYNs
        bool reuseaddr;  // SO_REUSEADDR
        uint32_t id;     // caller's name for this binding (a socket id)
        void* user;      // caller's data (the listener's accept queue, options...)
    };

    static constexpr uint32_t n_ports = 65536;
    static constexpr uint32_t any_id = 0xFFFFFFFFu;  // listen()/unbind(): first binding of that address
    static constexpr uint32_t default_readers = RTE_MAX_LCORE; // reader thread ids 0..RTE_MAX_LCORE-1

    listener_table() = default;
    // Frees every list: no reader may still be running.
    ~listener_table();
    listener_table(const listener_table&) = delete;
    listener_table& operator=(const listener_table&) = delete;

    // Reader thread ids will be 0..max_readers-1.
    bool init(uint32_t max_readers = default_readers);

    // Any registered reader, no lock: the listening entry for exactly daddr,
    // else the wildcard listener of the port, else nullptr.
    const entry* lookup(rte_be32_t daddr, rte_be16_t dport) const
    {
        const port_list* l = __atomic_load_n(&_ports[dport], __ATOMIC_ACQUIRE);
        if (l == nullptr) {
            return nullptr;
        }
        const entry* wild = nullptr;
        for (uint32_t i = 0; i < l->n; i++) {
            const entry& e = l->e[i];
            if (!e.listening) {
                continue;
            }
            if (e.addr == daddr) {
                return &e;
            }
            if (e.addr == 0) {
                wild = &e;
            }
        }
        return wild;
    }
    // Registered readers, no lock: does any binding of `port` overlap
    // `addr` (equal, or either is the wildcard)? For the ephemeral port
    // allocator on the lcores.
    bool port_in_use(rte_be32_t addr, rte_be16_t port) const
    {
        const port_list* l = __atomic_load_n(&_ports[port], __ATOMIC_ACQUIRE);
        if (l == nullptr) {
            return false;
        }
        for (uint32_t i = 0; i < l->n; i++) {
            if (overlap(l->e[i].addr, addr)) {
                return true;
            }
        }
        return false;
    }

    // Control threads. 0 or -EADDRINUSE (conflict), -EINVAL (port 0), -ENOMEM.
    // An entry with listening set is bound and listened to in one step.
    int bind(const entry& e);
    // Turns the binding (addr, port[, id]) into a listener: 0 (also if it
    // already listens), -EADDRINUSE, -ENOENT (no such binding).
    int listen(rte_be32_t addr, rte_be16_t port, uint32_t id = any_id);
    // Removes the binding (addr, port[, id]): 0 or -ENOENT.
    int unbind(rte_be32_t addr, rte_be16_t port, uint32_t id = any_id);

    // RCU. register_reader() also marks the thread online.
    rte_rcu_qsbr* qsbr() const { return _qsbr; }
    int register_reader(unsigned id);
    void unregister_reader(unsigned id);
    void quiescent(unsigned id) { rte_rcu_qsbr_quiescent(_qsbr, id); }
    // Frees the retired lists no reader can still see; returns how many remain.
    std::size_t reclaim();
    // Waits until every online reader has passed a quiescent state, then
    // frees every retired list. Not from a registered reader thread.
    void synchronize();

    std::size_t bindings() const;
    std::size_t retired() const;

private:
    struct port_list {
        uint32_t n;
        entry e[1]; // n entries (allocated to size)
    };

    static port_list* make_list(uint32_t n);
    static bool overlap(rte_be32_t a, rte_be32_t b) { return a == b || a == 0 || b == 0; }
    // Does `e` (already in the list at index `self`, or -1) conflict with any
    // other binding of its port?
    static bool conflicts(const port_list* l, const entry& e, int self);
    void publish(rte_be16_t port, port_list* next); // with _mu held
    std::size_t reclaim_locked(bool wait);

    port_list** _ports = nullptr; // n_ports pointers, read with acquire loads
    huge_region _ports_mem;
    rte_rcu_qsbr* _qsbr = nullptr;
    uint32_t _max_readers = 0;
    mutable std::mutex _mu;
    struct retired_list {
        uint64_t token;
        port_list* list;
    };
    std::vector<retired_list> _retired;
};

} // namespace fg::table
