// Why the classifier dropped a frame. One X-macro line per reason gives the
// enum, the name string and (in lib/core) the counter of the same name, so a
// drop reason can never be counted under a name nobody can find.
//
// The order is the order in which classify() checks: a frame that is wrong in
// several ways is counted under the first reason it meets.
#pragma once

#include <cstdint>

// X(name, "what was wrong with the frame"): one reason per line.
#define FG_FOREACH_NET_DROP(X)                                                                                      \
    X(truncated_eth, "frame shorter than an Ethernet header")                                                       \
    X(unknown_ethertype, "neither IPv4 nor ARP (802.1Q VLAN tags included: not supported yet)")                     \
    X(truncated_arp, "frame shorter than Ethernet + ARP for IPv4")                                                  \
    X(bad_arp, "hw type != Ethernet, proto != IPv4, hlen != 6, plen != 4, op not request/reply")                    \
    X(truncated_ip, "frame shorter than Ethernet + a 20-byte IPv4 header")                                          \
    X(bad_ip_version, "IP version != 4")                                                                            \
    X(bad_ihl, "IHL < 5")                                                                                           \
    X(ip_total_len, "IP total length > what the frame holds, or < the IP header (incl. options)")                   \
    X(bad_ip_cksum, "IP header checksum wrong (NIC said BAD, or software check failed)")                            \
    X(bad_ip_options, "IP options Linux's ip_options_compile() refuses (bad length/pointer, duplicate, CIPSO)")     \
    X(ip_source_route, "LSRR/SSRR option: Linux drops it (net.ipv4.conf.*.accept_source_route = 0)")                \
    X(ip_fragment, "MF set or fragment offset != 0")                                                                \
    X(bad_src_addr, "source in 0/8, 127/8, 224/4 (multicast) or 240/4 (class E, incl. 255.255.255.255)")            \
    X(bad_dst_addr, "destination in 0/8, 127/8, 224/4 or 240/4")                                                    \
    X(unknown_l4, "IP protocol neither TCP nor ICMP")                                                               \
    X(truncated_tcp, "IP payload shorter than a 20-byte TCP header")                                                \
    X(bad_tcp_doff, "TCP data offset < 5 or beyond the IP payload")                                                 \
    X(bad_tcp_cksum, "TCP checksum wrong (NIC said BAD, or software check failed)")                                 \
    X(truncated_icmp, "IP payload shorter than an 8-byte ICMP header")                                              \
    X(bad_icmp_cksum, "ICMP checksum wrong (always checked in software)")                                           \
    X(icmp_unhandled, "ICMP other than echo request")

namespace fg::net {

enum class drop : uint8_t {
#define FG_X(name, desc) name,
    FG_FOREACH_NET_DROP(FG_X)
#undef FG_X
        count
};

inline constexpr unsigned n_drops = unsigned(drop::count);

// The reason's name, e.g. "bad_ip_cksum"; "unknown" for out-of-range values.
inline const char* drop_name(drop d)
{
    static constexpr const char* names[] = {
#define FG_X(name, desc) #name,
        FG_FOREACH_NET_DROP(FG_X)
#undef FG_X
    };
    return unsigned(d) < n_drops ? names[unsigned(d)] : "unknown";
}

// What was wrong with a frame dropped for this reason.
inline const char* drop_desc(drop d)
{
    static constexpr const char* descs[] = {
#define FG_X(name, desc) desc,
        FG_FOREACH_NET_DROP(FG_X)
#undef FG_X
    };
    return unsigned(d) < n_drops ? descs[unsigned(d)] : "unknown";
}

} // namespace fg::net
