#include "tcp/listener.hh"

#include <cerrno>
#include <cstdio>

#include <rte_errno.h>

#include "table/listener_table.hh"
#include "tcp/engine.hh"

namespace fg::tcp {

std::unique_ptr<listener> listener::create(rte_be32_t addr, rte_be16_t port, const listen_options& o,
                                           uint16_t n_lcores, std::string& error)
{
    if (o.backlog == 0 || o.syn_backlog == 0) {
        error = "listen: backlog and syn_backlog must be at least 1";
        return nullptr;
    }
    if (n_lcores == 0 || n_lcores > max_lcores) {
        error = "listen: n_lcores must be 1.." + std::to_string(max_lcores);
        return nullptr;
    }
    if (o.backlog > RTE_RING_SZ_MASK) {
        error = "listen: backlog larger than an rte_ring can hold";
        return nullptr;
    }
    std::unique_ptr<listener> l(new listener());
    l->_addr = addr;
    l->_port = port;
    l->_opts = o;
    l->_syn_share = (o.syn_backlog + n_lcores - 1) / n_lcores;
    // Ring names must be unique per process: the object's address is.
    char name[RTE_RING_NAMESIZE];
    std::snprintf(name, sizeof(name), "fgacc_%p", static_cast<void*>(l.get()));
    l->_accept = rte_ring_create_elem(name, sizeof(event), o.backlog, SOCKET_ID_ANY, RING_F_EXACT_SZ);
    if (l->_accept == nullptr) {
        error = std::string("listen: cannot create the accept ring: ") + rte_strerror(rte_errno);
        return nullptr;
    }
    return l;
}

listener::~listener()
{
    rte_ring_free(_accept);
}

unsigned listener::accept_burst(event* out, unsigned n)
{
    return rte_ring_dequeue_burst_elem(_accept, out, sizeof(event), n, nullptr);
}

uint32_t listener::syn_queue_total() const
{
    uint32_t n = 0;
    for (const lcore_state& s : _lcore) {
        n += __atomic_load_n(&s.syn_queue_len, __ATOMIC_RELAXED);
    }
    return n;
}

listener_registry::listener_registry()
    : _slots(new std::atomic<listener*>[max_listeners]), _gen(new uint8_t[max_listeners]())
{
    for (uint32_t i = 0; i < max_listeners; i++) {
        _slots[i].store(nullptr, std::memory_order_relaxed);
    }
}

bool listener_registry::add(listener& l)
{
    for (uint32_t k = 0; k < max_listeners; k++) {
        const uint32_t i = (_next + k) & (max_listeners - 1);
        if (_slots[i].load(std::memory_order_relaxed) != nullptr) {
            continue;
        }
        uint8_t g = uint8_t((_gen[i] + 1) & gen_mask);
        if (g == 0) {
            g = 1;
        }
        _gen[i] = g;
        l._ref = uint16_t(i | (uint32_t(g) << index_bits));
        _slots[i].store(&l, std::memory_order_release);
        _next = i + 1;
        _n++;
        return true;
    }
    return false;
}

void listener_registry::remove(const listener& l)
{
    if (l._ref == 0) {
        return;
    }
    const uint32_t i = l._ref & (max_listeners - 1);
    if (_slots[i].load(std::memory_order_relaxed) == &l) {
        _slots[i].store(nullptr, std::memory_order_release);
        _n--;
    }
}

std::unique_ptr<listener> listen(table::listener_table& table, listener_registry& registry, rte_be32_t addr,
                                 rte_be16_t port, const listen_options& o, uint16_t n_lcores, int& err,
                                 std::string& message)
{
    if (port == 0) {
        err = -EINVAL;
        message = "listen: port 0";
        return nullptr;
    }
    std::unique_ptr<listener> l = listener::create(addr, port, o, n_lcores, message);
    if (l == nullptr) {
        err = -ENOMEM;
        return nullptr;
    }
    if (!registry.add(*l)) {
        err = -ENOSPC;
        message = "listen: too many listeners";
        return nullptr;
    }
    table::listener_table::entry e{};
    e.addr = addr;
    e.port = port;
    e.listening = true;
    e.reuseaddr = false;
    e.id = l->ref();
    e.user = l.get();
    const int rc = table.bind(e);
    if (rc != 0) {
        registry.remove(*l);
        err = rc;
        message = rc == -EADDRINUSE ? "listen: address already in use" : "listen: cannot bind";
        return nullptr;
    }
    err = 0;
    return l;
}

int unlisten(table::listener_table& table, listener_registry& registry, listener& l, std::vector<event>* orphans)
{
    // Registry first: the grace period then starts after both are gone, so no
    // lcore can still hold l from a table lookup or a registry get.
    registry.remove(l);
    const int rc = table.unbind(l.addr(), l.port(), l.ref());
    table.synchronize();
    event e;
    while (rte_ring_dequeue_elem(l.accept_ring(), &e, sizeof(e)) == 0) {
        if (orphans != nullptr) {
            orphans->push_back(e);
        }
    }
    return rc;
}

} // namespace fg::tcp
