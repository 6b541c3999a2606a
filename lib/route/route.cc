#include "route/route.hh"

#include <atomic>

#include <rte_errno.h>
#include <rte_lpm.h>

#include "base/compiler.hh"

namespace fg::route {

namespace {

constexpr int status_errno[] = {
#define FG_X(name, err, msg) err,
    FG_FOREACH_ROUTE_STATUS(FG_X)
#undef FG_X
};
constexpr const char* status_msg[] = {
#define FG_X(name, err, msg) msg,
    FG_FOREACH_ROUTE_STATUS(FG_X)
#undef FG_X
};
constexpr const char* status_name[] = {
#define FG_X(name, err, msg) #name,
    FG_FOREACH_ROUTE_STATUS(FG_X)
#undef FG_X
};

std::string cidr(uint32_t prefix, uint8_t plen) { return format_ipv4(prefix) + "/" + std::to_string(plen); }

uint32_t mask_of(uint8_t plen) { return plen == 0 ? 0 : ~uint32_t(0) << (32 - plen); }

} // namespace

int route_errno(route_status s) { return status_errno[unsigned(s)]; }
const char* route_strerror(route_status s) { return status_msg[unsigned(s)]; }
const char* route_status_name(route_status s) { return status_name[unsigned(s)]; }

route_table::route_table(const iface_addrs& addrs, rte_lpm* lpm) : _addrs(addrs), _lpm(lpm) {}

route_table::~route_table() { rte_lpm_free(_lpm); }

std::unique_ptr<route_table> route_table::create(const iface_addrs& addrs, std::string& error, uint32_t max_routes)
{
    static std::atomic<uint32_t> instance{0};
    const std::string name = "fg_route_" + std::to_string(instance.fetch_add(1));
    rte_lpm_config cfg{};
    cfg.max_rules = max_routes;
    cfg.number_tbl8s = tbl8s;
    rte_lpm* lpm = rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &cfg);
    if (lpm == nullptr) {
        error = "rte_lpm_create(" + name + ", " + std::to_string(max_routes) +
                " rules) failed: " + rte_strerror(rte_errno) + " (is EAL up, with 64+ MB of memory?)";
        return nullptr;
    }
    std::unique_ptr<route_table> t(new route_table(addrs, lpm));
    // One connected route per distinct subnet; its source is the lowest range
    // in exactly that subnet (entries are sorted by address).
    for (const iface_addrs::entry& e : addrs.entries()) {
        const uint32_t prefix = e.range.prefix();
        const uint8_t plen = e.range.plen;
        bool seen = false;
        for (const next_hop& nh : t->_nh) {
            seen |= nh.prefix == prefix && nh.plen == plen;
        }
        if (seen) {
            continue;
        }
        const next_hop nh{0, rte_cpu_to_be_32(e.range.first), e.port, addrs.mtu(e.port), prefix, plen};
        if (!t->add(prefix, plen, nh, error)) {
            return nullptr;
        }
    }
    return t;
}

bool route_table::add(uint32_t prefix, uint8_t plen, const next_hop& nh, std::string& error)
{
    if (plen == 0) {
        if (_default != UINT32_MAX) {
            error = "a default route already exists (via " + format_ipv4(rte_be_to_cpu_32(_nh[_default].gateway)) +
                    ")";
            return false;
        }
        _default = uint32_t(_nh.size());
        _nh.push_back(nh);
        return true;
    }
    uint32_t existing = 0; // rte_lpm_is_rule_present() refuses a null next_hop (-EINVAL)
    if (rte_lpm_is_rule_present(_lpm, prefix, plen, &existing) == 1) {
        error = "route " + cidr(prefix, plen) + " already exists";
        return false;
    }
    const uint32_t idx = uint32_t(_nh.size());
    const int rc = rte_lpm_add(_lpm, prefix, plen, idx);
    if (rc < 0) {
        error = "rte_lpm_add(" + cidr(prefix, plen) + ") failed: " + rte_strerror(-rc) +
                (rc == -ENOSPC ? " (route table full)" : "");
        return false;
    }
    _nh.push_back(nh);
    return true;
}

bool route_table::add_route(uint32_t prefix, uint8_t plen, uint32_t gateway, std::string& error, uint16_t mtu)
{
    if (plen > 32) {
        error = "prefix length " + std::to_string(plen) + " is above 32";
        return false;
    }
    if ((prefix & ~mask_of(plen)) != 0) {
        error = "prefix " + cidr(prefix, plen) + " has host bits set (did you mean " +
                cidr(prefix & mask_of(plen), plen) + "?)";
        return false;
    }
    const std::string what = (plen == 0 ? std::string("default route") : "route " + cidr(prefix, plen));
    if (is_martian(gateway) || _addrs.is_broadcast(rte_cpu_to_be_32(gateway))) {
        error = what + ": gateway " + format_ipv4(gateway) + " is not a unicast address";
        return false;
    }
    if (_addrs.is_local(rte_cpu_to_be_32(gateway))) {
        error = what + ": gateway " + format_ipv4(gateway) + " is one of our own addresses";
        return false;
    }
    // The gateway must be on-link: inside a connected subnet (longest prefix
    // first). Its port is the egress port and the source comes from the
    // range in that subnet, so replies come back to an address the gateway
    // can reach directly.
    const iface_addrs::entry* best = nullptr;
    for (const iface_addrs::entry& e : _addrs.entries()) {
        if ((gateway & e.range.mask()) == e.range.prefix() && (!best || e.range.plen > best->range.plen)) {
            best = &e;
        }
    }
    if (best == nullptr) {
        error = what + ": gateway " + format_ipv4(gateway) +
                " is not inside any configured subnet (add an address in its subnet first)";
        return false;
    }
    if (mtu != 0 && (mtu < 68 || mtu > _addrs.mtu(best->port))) {
        error = what + ": MTU " + std::to_string(mtu) + " out of range 68.." + std::to_string(_addrs.mtu(best->port));
        return false;
    }
    const next_hop nh{rte_cpu_to_be_32(gateway), rte_cpu_to_be_32(best->range.first), best->port,
                      mtu != 0 ? mtu : _addrs.mtu(best->port), prefix, plen};
    return add(prefix, plen, nh, error);
}

route_result route_table::lookup(rte_be32_t dst, rte_be32_t bound_src) const
{
    route_result r;
    const uint32_t d = rte_be_to_cpu_32(dst);
    const unsigned kind = _addrs.kind(dst);
    if (FG_UNLIKELY(is_martian(d) || kind != 0)) {
        r.status = (kind & iface_addrs::local_bit) ? route_status::dst_is_local : route_status::bad_destination;
        return r;
    }
    uint32_t idx = 0;
    if (rte_lpm_lookup(_lpm, d, &idx) != 0) {
        if (FG_UNLIKELY(_default == UINT32_MAX)) {
            r.status = route_status::no_route;
            return r;
        }
        idx = _default;
    }
    const next_hop& nh = _nh[idx];
    r.next_hop = nh.gateway != 0 ? nh.gateway : dst;
    r.port = nh.port;
    r.mtu = nh.mtu;
    if (bound_src == 0) {
        r.src = nh.src;
    } else {
        const int p = _addrs.port_of(bound_src);
        if (FG_UNLIKELY(p != nh.port)) {
            r.status = p < 0 ? route_status::src_not_local : route_status::src_wrong_port;
            return r;
        }
        r.src = bound_src;
    }
    r.status = route_status::ok;
    return r;
}

std::vector<route_info> route_table::routes() const
{
    std::vector<route_info> v;
    for (const next_hop& nh : _nh) {
        v.push_back(route_info{nh.prefix, nh.plen, rte_be_to_cpu_32(nh.gateway), rte_be_to_cpu_32(nh.src), nh.port,
                               nh.mtu});
    }
    return v;
}

} // namespace fg::route
