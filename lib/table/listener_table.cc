#include "table/listener_table.hh"

#include <cerrno>
#include <cstdlib>
#include <new>

#include <rte_common.h>

namespace fg::table {

listener_table::~listener_table()
{
    if (_ports != nullptr) {
        for (uint32_t p = 0; p < n_ports; p++) {
            std::free(_ports[p]);
        }
    }
    for (const retired_list& r : _retired) {
        std::free(r.list);
    }
    free_huge(_ports_mem);
    std::free(_qsbr);
}

bool listener_table::init(uint32_t max_readers)
{
    if (_ports != nullptr || max_readers == 0) {
        return false;
    }
    const std::size_t qsz = rte_rcu_qsbr_get_memsize(max_readers);
    if (qsz == std::size_t(1) || qsz == 0) {
        return false;
    }
    // rte_rcu_qsbr wants cache-line aligned memory; aligned_alloc wants a
    // size that is a multiple of the alignment.
    _qsbr = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(qsz, RTE_CACHE_LINE_SIZE)));
    if (_qsbr == nullptr || rte_rcu_qsbr_init(_qsbr, max_readers) != 0) {
        std::free(_qsbr);
        _qsbr = nullptr;
        return false;
    }
    _ports_mem = alloc_huge(sizeof(port_list*) * n_ports, true);
    if (_ports_mem.ptr == nullptr) {
        std::free(_qsbr);
        _qsbr = nullptr;
        return false;
    }
    _ports = static_cast<port_list**>(_ports_mem.ptr); // zeroed: no port has a list
    _max_readers = max_readers;
    return true;
}

listener_table::port_list* listener_table::make_list(uint32_t n)
{
    const std::size_t bytes = offsetof(port_list, e) + sizeof(entry) * (n == 0 ? 1 : n);
    auto* l = static_cast<port_list*>(std::malloc(bytes));
    if (l != nullptr) {
        l->n = n;
    }
    return l;
}

bool listener_table::conflicts(const port_list* l, const entry& e, int self)
{
    if (l == nullptr) {
        return false;
    }
    for (uint32_t i = 0; i < l->n; i++) {
        if (int(i) == self) {
            continue;
        }
        const entry& o = l->e[i];
        if (!overlap(o.addr, e.addr)) {
            continue;
        }
        // inet_bind_conflict(): both SO_REUSEADDR and the other not
        // listening is the only way two overlapping bindings coexist.
        if (e.reuseaddr && o.reuseaddr && !o.listening) {
            continue;
        }
        return true;
    }
    return false;
}

void listener_table::publish(rte_be16_t port, port_list* next)
{
    port_list* old = _ports[port];
    __atomic_store_n(&_ports[port], next, __ATOMIC_RELEASE);
    if (old != nullptr) {
        // Readers that loaded `old` before the store may still be using it:
        // free it only once each has reported a quiescent state after now.
        _retired.push_back(retired_list{rte_rcu_qsbr_start(_qsbr), old});
    }
    reclaim_locked(false);
}

int listener_table::bind(const entry& e)
{
    if (e.port == 0) {
        return -EINVAL;
    }
    std::lock_guard<std::mutex> g(_mu);
    const port_list* cur = _ports[e.port];
    entry as_bound = e;
    as_bound.listening = false;
    if (conflicts(cur, as_bound, -1) || (e.listening && conflicts(cur, e, -1))) {
        return -EADDRINUSE;
    }
    const uint32_t n = cur == nullptr ? 0 : cur->n;
    port_list* next = make_list(n + 1);
    if (next == nullptr) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        next->e[i] = cur->e[i];
    }
    next->e[n] = e;
    publish(e.port, next);
    return 0;
}

namespace {
int find_binding(const listener_table::entry* e, uint32_t n, rte_be32_t addr, uint32_t id)
{
    for (uint32_t i = 0; i < n; i++) {
        if (e[i].addr == addr && (id == listener_table::any_id || e[i].id == id)) {
            return int(i);
        }
    }
    return -1;
}
} // namespace

int listener_table::listen(rte_be32_t addr, rte_be16_t port, uint32_t id)
{
    std::lock_guard<std::mutex> g(_mu);
    const port_list* cur = _ports[port];
    const int i = cur == nullptr ? -1 : find_binding(cur->e, cur->n, addr, id);
    if (i < 0) {
        return -ENOENT;
    }
    if (cur->e[i].listening) {
        return 0;
    }
    entry as_listener = cur->e[i];
    as_listener.listening = true;
    if (conflicts(cur, as_listener, i)) {
        return -EADDRINUSE;
    }
    port_list* next = make_list(cur->n);
    if (next == nullptr) {
        return -ENOMEM;
    }
    for (uint32_t j = 0; j < cur->n; j++) {
        next->e[j] = cur->e[j];
    }
    next->e[i] = as_listener;
    publish(port, next);
    return 0;
}

int listener_table::unbind(rte_be32_t addr, rte_be16_t port, uint32_t id)
{
    std::lock_guard<std::mutex> g(_mu);
    const port_list* cur = _ports[port];
    const int i = cur == nullptr ? -1 : find_binding(cur->e, cur->n, addr, id);
    if (i < 0) {
        return -ENOENT;
    }
    port_list* next = nullptr;
    if (cur->n > 1) {
        next = make_list(cur->n - 1);
        if (next == nullptr) {
            return -ENOMEM;
        }
        uint32_t k = 0;
        for (uint32_t j = 0; j < cur->n; j++) {
            if (int(j) != i) {
                next->e[k++] = cur->e[j];
            }
        }
    }
    publish(port, next);
    return 0;
}

int listener_table::register_reader(unsigned id)
{
    if (id >= _max_readers) {
        return -EINVAL;
    }
    const int rc = rte_rcu_qsbr_thread_register(_qsbr, id);
    if (rc != 0) {
        return rc;
    }
    rte_rcu_qsbr_thread_online(_qsbr, id);
    return 0;
}

void listener_table::unregister_reader(unsigned id)
{
    if (id >= _max_readers) {
        return;
    }
    rte_rcu_qsbr_thread_offline(_qsbr, id);
    rte_rcu_qsbr_thread_unregister(_qsbr, id);
}

std::size_t listener_table::reclaim_locked(bool wait)
{
    std::size_t kept = 0;
    for (std::size_t i = 0; i < _retired.size(); i++) {
        // Tokens grow with retirement order: once one is not yet safe, the
        // later ones are not either (unless waiting).
        if (kept == 0 && rte_rcu_qsbr_check(_qsbr, _retired[i].token, wait) == 1) {
            std::free(_retired[i].list);
        } else {
            _retired[kept++] = _retired[i];
        }
    }
    _retired.resize(kept);
    return kept;
}

std::size_t listener_table::reclaim()
{
    std::lock_guard<std::mutex> g(_mu);
    return reclaim_locked(false);
}

void listener_table::synchronize()
{
    std::lock_guard<std::mutex> g(_mu);
    reclaim_locked(true);
}

std::size_t listener_table::bindings() const
{
    std::lock_guard<std::mutex> g(_mu);
    std::size_t n = 0;
    for (uint32_t p = 0; p < n_ports; p++) {
        if (_ports[p] != nullptr) {
            n += _ports[p]->n;
        }
    }
    return n;
}

std::size_t listener_table::retired() const
{
    std::lock_guard<std::mutex> g(_mu);
    return _retired.size();
}

} // namespace fg::table
