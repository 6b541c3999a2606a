#include "gen/pairs.hh"

#include <algorithm>
#include <numeric>
#include <utility>

#include "base/tuple.hh"

namespace fg::gen {

pair_space& pair_space::operator=(pair_space&& o) noexcept
{
    if (this != &o) {
        free_huge(_ring_mem);
        _c_port = o._c_port;
        _c_addr = o._c_addr;
        _cursor_done = o._cursor_done;
        _lo = o._lo;
        _hi = o._hi;
        _me = o._me;
        _all_mine = o._all_mine;
        _h0 = std::move(o._h0);
        _reserved = std::move(o._reserved);
        _laddrs = std::move(o._laddrs);
        _sorted = std::move(o._sorted);
        _sorted_idx = std::move(o._sorted_idx);
        _contiguous = o._contiguous;
        _steer = o._steer;
        _ring_mem = o._ring_mem;
        _ring = o._ring;
        _ring_cap = o._ring_cap;
        _head = o._head;
        _ring_n = o._ring_n;
        _out = o._out;
        o._ring_mem = huge_region{};
        o._ring = nullptr;
        o._ring_cap = 0;
        o._ring_n = 0;
    }
    return *this;
}

bool pair_space::init(const std::vector<rte_be32_t>& laddrs, uint16_t lo, uint16_t hi,
                      const std::vector<uint16_t>& reserved, rte_be32_t raddr, rte_be16_t rport,
                      const steering& steer, uint16_t me, uint32_t capacity, std::string& error)
{
    if (laddrs.empty() || laddrs.size() > max_addrs) {
        error = "generator: 1 to " + std::to_string(max_addrs) + " source addresses per target";
        return false;
    }
    if (lo == 0 || lo > hi) {
        error = "generator: bad local port range";
        return false;
    }
    if (me >= steer.n_owners()) {
        error = "generator: lcore not known to the steering function";
        return false;
    }
    _laddrs = laddrs;
    _lo = lo;
    _hi = hi;
    _me = me;
    _steer = &steer;
    _all_mine = steer.n_owners() == 1;
    _reserved.assign(65536 / 64, 0);
    for (uint16_t p : reserved) {
        _reserved[p / 64] |= uint64_t(1) << (p % 64);
    }
    _h0.resize(laddrs.size());
    for (std::size_t i = 0; i < laddrs.size(); i++) {
        _h0[i] = steer.hash(tuple4{laddrs[i], raddr, 0, rport});
    }
    _sorted.resize(laddrs.size());
    _sorted_idx.resize(laddrs.size());
    std::vector<uint32_t> order(laddrs.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        return rte_be_to_cpu_32(laddrs[a]) < rte_be_to_cpu_32(laddrs[b]);
    });
    for (std::size_t i = 0; i < order.size(); i++) {
        _sorted[i] = rte_be_to_cpu_32(laddrs[order[i]]);
        _sorted_idx[i] = order[i];
        if (i != 0 && _sorted[i] == _sorted[i - 1]) {
            error = "generator: a source address is listed twice";
            return false;
        }
    }

    _contiguous = true;
    for (std::size_t i = 0; i < laddrs.size(); i++) {
        _contiguous = _contiguous && rte_be_to_cpu_32(laddrs[i]) == _sorted[0] + i;
    }

    const uint64_t all = uint64_t(laddrs.size()) * (uint64_t(hi) - lo + 1);
    _ring_cap = std::min<uint64_t>(all, std::max<uint64_t>(ring_floor, 2ull * capacity));
    _ring_mem = alloc_huge(std::size_t(_ring_cap) * sizeof(uint32_t), false);
    if (_ring_mem.ptr == nullptr) {
        error = "generator: no memory for the source-pair ring";
        return false;
    }
    _ring = static_cast<uint32_t*>(_ring_mem.ptr);
    _head = 0;
    _ring_n = 0;
    _out = 0;
    _c_port = lo;
    _c_addr = 0;
    _cursor_done = false;
    return true;
}

bool pair_space::next_fresh(uint32_t& addr_idx, uint16_t& port)
{
    // Amortised O(n_owners): about one candidate in n_owners is ours.
    const uint32_t n = uint32_t(_laddrs.size());
    while (_c_port <= _hi) {
        const uint16_t p = uint16_t(_c_port);
        if ((_reserved[p / 64] >> (p % 64)) & 1) {
            _c_port++;
            _c_addr = 0;
            continue;
        }
        while (_c_addr < n) {
            const uint32_t a = _c_addr++;
            if (_all_mine || _steer->owner_of_hash(_h0[a] ^ _steer->lport_delta(rte_cpu_to_be_16(p))) == _me) {
                addr_idx = a;
                port = p;
                if (_c_addr == n) {
                    _c_addr = 0;
                    _c_port++;
                }
                return true;
            }
        }
        _c_addr = 0;
        _c_port++;
    }
    _cursor_done = true;
    return false;
}

int64_t pair_space::addr_index_search(rte_be32_t laddr) const
{
    const uint32_t a = rte_be_to_cpu_32(laddr);
    const auto it = std::lower_bound(_sorted.begin(), _sorted.end(), a);
    if (it == _sorted.end() || *it != a) {
        return -1;
    }
    return _sorted_idx[std::size_t(it - _sorted.begin())];
}

} // namespace fg::gen
