// Interface addresses: which IPv4 addresses are ours, on which port, in which
// subnet. A load generator owns whole ranges of source addresses (tens of
// thousands), so an interface carries ranges, not single addresses: each
// addr_range is [first, last] inside one prefix (subnet) of the port.
//
// iface_addrs answers, per received packet, "is this address ours?"
// (is_local) and "is it a directed broadcast of one of our subnets?"
// (is_broadcast) in O(1): a directory indexed by the top 16 bits of the
// address points at a 16 KB block holding two bitmaps (local, broadcast) for
// that /16. Two dependent loads, no branch on the number of ranges, and the
// only cache lines touched are the directory line and bitmap line of the /16s
// that really receive traffic. A sorted range list with binary search costs a
// hard-to-predict branch per level once there are more than a couple of ranges
// (bench/route_bench.cc: BM_IsLocal vs BM_RangeSearch), and an rte_hash of
// 65536+ addresses needs EAL memory and a hash per packet. Memory: 128 KB
// directory + 16 KB per /16 that holds an address or a broadcast address.
//
// Control-plane calls (parse_addr, add) take host-order addresses, as typed by
// a user; per-packet calls take network order (rte_be32_t), as in the packet.
// Configure everything before the lcores start: the object is read-only after.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rte_byteorder.h>

#include "base/compiler.hh"

namespace fg::route {

// A range of local addresses inside one subnet, host byte order.
struct addr_range {
    uint32_t first = 0; // first address of the range
    uint32_t last = 0;  // last address, inclusive (== first for a single address)
    uint8_t plen = 0;   // prefix length of the subnet both ends sit in (1..32)

    uint32_t mask() const { return plen == 0 ? 0 : ~uint32_t(0) << (32 - plen); }
    uint32_t prefix() const { return first & mask(); }
    // Directed broadcast of the subnet; none (0) for /31 and /32 (RFC 3021).
    uint32_t broadcast() const { return plen >= 31 ? 0 : prefix() | ~mask(); }
    uint64_t size() const { return uint64_t(last) - first + 1; }
    friend bool operator==(const addr_range&, const addr_range&) = default;
};

// "A.B.C.D" (no leading zeros, octets 0..255) into host order. On failure
// returns false and sets `error` to a message that quotes the input.
bool parse_ipv4(std::string_view text, uint32_t& out, std::string& error);

// "A.B.C.D/PLEN" or "A.B.C.D-A.B.C.E/PLEN". Both ends must lie in the same
// /PLEN subnet, in order, and be usable unicast host addresses: not 0/8,
// 127/8, 224/4 or 240/4, and (for PLEN <= 30) neither the subnet's network
// nor its broadcast address. Returns false with a message on any error.
bool parse_addr(std::string_view text, addr_range& out, std::string& error);

// Dotted quad of a host-order address.
std::string format_ipv4(uint32_t host_addr);
// "A.B.C.D/PLEN" or "A.B.C.D-A.B.C.E/PLEN".
std::string format_addr(const addr_range& r);

// True for addresses that can never be a unicast peer or source on the wire:
// 0/8, 127/8, 224/4 (multicast), 240/4 (reserved, incl. 255.255.255.255).
constexpr bool is_martian(uint32_t host_addr)
{
    const uint32_t a = host_addr >> 24;
    return a == 0 || a == 127 || a >= 224;
}

class iface_addrs {
public:
    static constexpr uint16_t max_ports = 64;      // port ids we accept (RTE_MAX_ETHPORTS is 32 by default)
    static constexpr uint16_t default_mtu = 1500;  // Ethernet
    static constexpr uint16_t max_blocks = 65535;  // /16 blocks, uint16 index with 0 = none

    // One configured range with the port it belongs to (sorted by first).
    struct entry {
        addr_range range;
        uint16_t port;
    };

    iface_addrs();
    ~iface_addrs();
    iface_addrs(const iface_addrs&) = delete;
    iface_addrs& operator=(const iface_addrs&) = delete;

    // Adds a range to a port. Fails (false + message) if the port id is out of
    // range, the range overlaps an address already configured, or its subnet is
    // already configured on another port (a connected route must name one port).
    bool add(uint16_t port, const addr_range& r, std::string& error);
    // MTU of a port's interface (default 1500). False if out of range (68..9216).
    bool set_mtu(uint16_t port, uint16_t mtu, std::string& error);

    // Per packet: is `addr` one of our addresses (any port)?
    bool is_local(rte_be32_t addr) const { return kind(addr) & local_bit; }
    // Per packet: the directed broadcast of a configured subnet, or the limited
    // broadcast 255.255.255.255.
    bool is_broadcast(rte_be32_t addr) const
    {
        return (kind(addr) & broadcast_bit) || addr == rte_cpu_to_be_32(0xffffffffu);
    }
    // Both questions with one directory load and one bitmap cache line:
    // local_bit and/or broadcast_bit (directed broadcasts only).
    static constexpr unsigned local_bit = 1;
    static constexpr unsigned broadcast_bit = 2;
    unsigned kind(rte_be32_t addr) const
    {
        const uint32_t a = rte_be_to_cpu_32(addr);
        const uint64_t* w = _blocks[_dir[a >> 16]]->bits[(a & 0xffff) >> 6];
        const unsigned bit = a & 63;
        return unsigned((w[0] >> bit) & 1) | unsigned(((w[1] >> bit) & 1) << 1);
    }
    // What Linux's ip_route_input_slow() and fib_validate_source() decide
    // about a packet's addresses once classify() let it through (so neither
    // is in 0/8, 127/8, 224/4 or 240/4): for us, not for us, a broadcast, or
    // from a source that cannot be a peer -- one of our own addresses (a
    // "land" packet; Linux: accept_local = 0) or the directed broadcast of
    // one of our subnets. Two kind() lookups.
    enum class admit : uint8_t { local, not_local, to_broadcast, martian_src };
    admit admit_ipv4(rte_be32_t src, rte_be32_t dst) const
    {
        const unsigned d = kind(dst);
        if (FG_UNLIKELY(!(d & local_bit))) {
            return (d & broadcast_bit) || dst == rte_cpu_to_be_32(0xffffffffu) ? admit::to_broadcast
                                                                               : admit::not_local;
        }
        return FG_LIKELY(kind(src) == 0) ? admit::local : admit::martian_src;
    }
    // Port owning local address `addr`, or -1 if it is not ours. O(1) through
    // the bitmap when the address's /16 holds one port's addresses only (the
    // normal case: a subnet belongs to one port), else a binary search over
    // the ranges. For connect-time checks of a bound address.
    int port_of(rte_be32_t addr) const
    {
        const uint32_t a = rte_be_to_cpu_32(addr);
        const block* b = _blocks[_dir[a >> 16]];
        if (!((b->bits[(a & 0xffff) >> 6][0] >> (a & 63)) & 1)) {
            return -1;
        }
        return FG_LIKELY(b->port >= 0) ? b->port : port_of_slow(a);
    }
    // The configured range holding host-order `addr`, or nullptr.
    const entry* find(uint32_t host_addr) const;
    // The configured range of `port` whose subnet contains host-order `addr`
    // (which need not be local: a gateway, a peer), longest prefix first, then
    // lowest range; nullptr if none.
    const entry* find_subnet(uint16_t port, uint32_t host_addr) const;

    uint16_t mtu(uint16_t port) const { return port < max_ports ? _mtu[port] : 0; }
    const std::vector<entry>& entries() const { return _entries; }
    uint64_t n_local() const { return _n_local; }

private:
    // One /16. Local and broadcast words of the same 64 addresses sit side
    // by side, so kind() reads one cache line.
    struct block {
        uint64_t bits[1024][2]; // [i][0] bit j: address i*64+j is ours; [i][1]: it is a directed broadcast
        int32_t port = port_none; // port of every local address in the block, or port_none / port_mixed
    };
    static constexpr int32_t port_none = -1;  // no local address in the block yet
    static constexpr int32_t port_mixed = -2; // local addresses of several ports: binary search
    int port_of_slow(uint32_t host_addr) const;
    uint16_t block_for(uint32_t host_addr); // allocates on first use; 0 if out of blocks
    void set_bit(uint32_t host_addr, bool bcast, uint16_t port);

    std::unique_ptr<uint16_t[]> _dir;  // 65536 entries: /16 -> block index (0 = the empty block)
    std::vector<block*> _blocks_owned; // index -> block; [0] is all zeroes
    block* const* _blocks = nullptr;   // _blocks_owned.data(), read per packet
    std::vector<entry> _entries;       // sorted by range.first, non-overlapping
    uint16_t _mtu[max_ports];
    uint64_t _n_local = 0;
};

} // namespace fg::route
