#include "route/addr.hh"

#include <algorithm>
#include <cstring>

namespace fg::route {

namespace {

// Built by appending: GCC 12 at -O3 warns (-Wrestrict, a false positive) on
// `"'" + std::string(...)`.
std::string quoted(std::string_view s)
{
    std::string q(1, '\'');
    q.append(s);
    q.push_back('\'');
    return q;
}

// Digits only, no sign, no leading zero (so "010" is not read as octal or as
// ten: both readings exist in the wild), at most `max`.
bool parse_uint(std::string_view s, uint32_t max, uint32_t& out)
{
    if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) {
        return false;
    }
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + uint32_t(c - '0');
    }
    if (v > max) {
        return false;
    }
    out = uint32_t(v);
    return true;
}

// Why a host address cannot be one of ours, or nullptr if it can.
const char* unusable_reason(uint32_t a)
{
    const uint32_t top = a >> 24;
    if (top == 0) {
        return "is in 0.0.0.0/8 (\"this network\")";
    }
    if (top == 127) {
        return "is a loopback address (127.0.0.0/8)";
    }
    if (top >= 224 && top < 240) {
        return "is a multicast address (224.0.0.0/4)";
    }
    if (top >= 240) {
        return "is a reserved or broadcast address (240.0.0.0/4)";
    }
    return nullptr;
}

// Everything parse_addr() promises about a range, for parsed and built ones.
bool check_range(const addr_range& r, std::string_view text, std::string& error)
{
    if (r.plen == 0 || r.plen > 32) {
        error = "bad prefix length " + std::to_string(r.plen) + " in " + quoted(text) + ": want 1..32";
        return false;
    }
    if (r.last < r.first) {
        error = "range " + quoted(text) + " ends (" + format_ipv4(r.last) + ") before it starts (" +
                format_ipv4(r.first) + ")";
        return false;
    }
    if ((r.first & r.mask()) != (r.last & r.mask())) {
        error = "range " + quoted(text) + " leaves its subnet " + format_ipv4(r.prefix()) + "/" +
                std::to_string(r.plen) + ": both ends must be in the same /" + std::to_string(r.plen);
        return false;
    }
    for (uint32_t a : {r.first, r.last}) {
        if (const char* why = unusable_reason(a)) {
            error = "address " + format_ipv4(a) + " in " + quoted(text) + " " + why;
            return false;
        }
    }
    if (r.plen <= 30) {
        const std::string subnet = format_ipv4(r.prefix()) + "/" + std::to_string(r.plen);
        if (r.first == r.prefix()) {
            error = quoted(text) + " includes " + format_ipv4(r.first) + ", the network address of " + subnet;
            return false;
        }
        if (r.last == r.broadcast()) {
            error = quoted(text) + " includes " + format_ipv4(r.last) + ", the broadcast address of " + subnet;
            return false;
        }
    }
    return true;
}

} // namespace

bool parse_ipv4(std::string_view text, uint32_t& out, std::string& error)
{
    uint32_t v = 0;
    std::string_view rest = text;
    for (int i = 0; i < 4; i++) {
        const std::size_t dot = rest.find('.');
        const std::string_view part = i < 3 ? rest.substr(0, dot) : rest;
        if (i < 3 && dot == std::string_view::npos) {
            error = "bad IPv4 address " + quoted(text) + ": want four dotted decimal octets (A.B.C.D)";
            return false;
        }
        uint32_t o = 0;
        if (!parse_uint(part, 255, o)) {
            error = "bad IPv4 address " + quoted(text) + ": octet " + quoted(part) +
                    " is not a decimal number 0..255 without leading zeros";
            return false;
        }
        v = (v << 8) | o;
        if (i < 3) {
            rest = rest.substr(dot + 1);
        }
    }
    out = v;
    return true;
}

bool parse_addr(std::string_view text, addr_range& out, std::string& error)
{
    if (text.empty()) {
        error = "empty address: want A.B.C.D/PLEN or A.B.C.D-A.B.C.E/PLEN";
        return false;
    }
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) {
        error = "address " + quoted(text) + " has no /prefix-length (e.g. 198.18.0.10/16)";
        return false;
    }
    const std::string_view addrs = text.substr(0, slash);
    const std::string_view plen_s = text.substr(slash + 1);
    uint32_t plen = 0;
    if (!parse_uint(plen_s, 32, plen) || plen == 0) {
        error = "bad prefix length " + quoted(plen_s) + " in " + quoted(text) + ": want 1..32";
        return false;
    }
    const std::size_t dash = addrs.find('-');
    uint32_t first = 0;
    uint32_t last = 0;
    if (!parse_ipv4(addrs.substr(0, dash), first, error)) {
        return false;
    }
    if (dash == std::string_view::npos) {
        last = first;
    } else if (!parse_ipv4(addrs.substr(dash + 1), last, error)) {
        return false;
    }
    const addr_range r{first, last, uint8_t(plen)};
    if (!check_range(r, text, error)) {
        return false;
    }
    out = r;
    return true;
}

std::string format_ipv4(uint32_t a)
{
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." + std::to_string((a >> 8) & 0xff) +
           "." + std::to_string(a & 0xff);
}

std::string format_addr(const addr_range& r)
{
    std::string s = format_ipv4(r.first);
    if (r.last != r.first) {
        s.push_back('-');
        s += format_ipv4(r.last);
    }
    return s + "/" + std::to_string(r.plen);
}

iface_addrs::iface_addrs() : _dir(new uint16_t[65536]())
{
    _blocks_owned.push_back(new block{});
    _blocks = _blocks_owned.data();
    std::fill(std::begin(_mtu), std::end(_mtu), default_mtu);
}

iface_addrs::~iface_addrs()
{
    for (block* b : _blocks_owned) {
        delete b;
    }
}

uint16_t iface_addrs::block_for(uint32_t a)
{
    uint16_t& d = _dir[a >> 16];
    if (d == 0) {
        if (_blocks_owned.size() > max_blocks) {
            return 0;
        }
        _blocks_owned.push_back(new block{});
        _blocks = _blocks_owned.data();
        d = uint16_t(_blocks_owned.size() - 1);
    }
    return d;
}

void iface_addrs::set_bit(uint32_t a, bool bcast, uint16_t port)
{
    block* b = _blocks_owned[block_for(a)];
    b->bits[(a & 0xffff) >> 6][bcast ? 1 : 0] |= uint64_t(1) << (a & 63);
    if (!bcast) {
        b->port = (b->port == port_none || b->port == port) ? port : port_mixed;
    }
}

bool iface_addrs::add(uint16_t port, const addr_range& r, std::string& error)
{
    if (port >= max_ports) {
        error = "port " + std::to_string(port) + " is out of range (max " + std::to_string(max_ports - 1) + ")";
        return false;
    }
    if (!check_range(r, format_addr(r), error)) {
        return false;
    }
    for (const entry& e : _entries) {
        if (r.first <= e.range.last && e.range.first <= r.last) {
            error = "addresses " + format_addr(r) + " overlap " + format_addr(e.range) + " on port " +
                    std::to_string(e.port);
            return false;
        }
        const uint8_t p = std::min(r.plen, e.range.plen);
        const uint32_t m = p == 0 ? 0 : ~uint32_t(0) << (32 - p);
        if (e.port != port && (r.first & m) == (e.range.first & m)) {
            error = "subnet of " + format_addr(r) + " overlaps subnet of " + format_addr(e.range) +
                    " on port " + std::to_string(e.port) + ": a subnet belongs to one port";
            return false;
        }
    }
    // Blocks needed: one per /16 the range covers, plus the broadcast's.
    uint64_t need = (r.last >> 16) - (r.first >> 16) + 2;
    if (_blocks_owned.size() + need > uint64_t(max_blocks) + 1) {
        error = "too many addresses: " + format_addr(r) + " would need more than " + std::to_string(max_blocks) +
                " /16 blocks";
        return false;
    }
    for (uint64_t a = r.first; a <= r.last; a++) {
        set_bit(uint32_t(a), false, port);
    }
    if (r.broadcast() != 0) {
        set_bit(r.broadcast(), true, port);
    }
    _n_local += r.size();
    const entry e{r, port};
    _entries.insert(std::upper_bound(_entries.begin(), _entries.end(), e,
                                     [](const entry& x, const entry& y) { return x.range.first < y.range.first; }),
                    e);
    return true;
}

bool iface_addrs::set_mtu(uint16_t port, uint16_t mtu, std::string& error)
{
    if (port >= max_ports) {
        error = "port " + std::to_string(port) + " is out of range (max " + std::to_string(max_ports - 1) + ")";
        return false;
    }
    if (mtu < 68 || mtu > 9216) {
        error = "MTU " + std::to_string(mtu) + " out of range 68..9216";
        return false;
    }
    _mtu[port] = mtu;
    return true;
}

const iface_addrs::entry* iface_addrs::find(uint32_t a) const
{
    // Last range starting at or below a.
    auto it = std::upper_bound(_entries.begin(), _entries.end(), a,
                               [](uint32_t v, const entry& e) { return v < e.range.first; });
    if (it == _entries.begin()) {
        return nullptr;
    }
    --it;
    return a <= it->range.last ? &*it : nullptr;
}

int iface_addrs::port_of_slow(uint32_t a) const
{
    const entry* e = find(a);
    return e ? e->port : -1;
}

const iface_addrs::entry* iface_addrs::find_subnet(uint16_t port, uint32_t a) const
{
    // Longest matching prefix wins (as a route lookup would), then the lowest
    // range: the choice is deterministic, whatever order ranges were added in.
    const entry* best = nullptr;
    for (const entry& e : _entries) {
        if (e.port == port && (a & e.range.mask()) == e.range.prefix() && (!best || e.range.plen > best->range.plen)) {
            best = &e;
        }
    }
    return best;
}

} // namespace fg::route
