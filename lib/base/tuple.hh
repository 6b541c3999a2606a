// tuple4 is a TCP connection's identity seen from our side: local address and
// port, remote address and port. Every field is in network byte order, exactly
// as it sits in the packet, so the hot path never swaps bytes to look a
// connection up. 12 bytes, no padding: tables store and compare it whole.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>

#include <rte_byteorder.h>

namespace fg {

struct tuple4 {
    rte_be32_t laddr; // local IPv4 address
    rte_be32_t raddr; // remote IPv4 address
    rte_be16_t lport; // local TCP port
    rte_be16_t rport; // remote TCP port

    friend bool operator==(const tuple4& a, const tuple4& b) noexcept
    {
        return a.laddr == b.laddr && a.raddr == b.raddr && a.lport == b.lport && a.rport == b.rport;
    }
};
static_assert(sizeof(tuple4) == 12, "tuple4 must stay 12 packed bytes");

// Host-order convenience constructor for tests and control code.
inline tuple4 make_tuple4(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport) noexcept
{
    return tuple4{rte_cpu_to_be_32(laddr), rte_cpu_to_be_32(raddr), rte_cpu_to_be_16(lport),
                  rte_cpu_to_be_16(rport)};
}

// Host-order IPv4 address from dotted quad parts, for readable tests.
constexpr uint32_t ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) noexcept
{
    return (uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | uint32_t(d);
}

} // namespace fg
