// ICMP echo (RFC 792) on DPDK's rte_icmp_hdr: the only ICMP Floodgate answers.
// The reply is built in the request's own buffer, keeping its identifier,
// sequence number and data, so a ping costs no allocation and no copy.
#pragma once

#include <cstdint>

#include "net/classify.hh"

namespace fg::net {

// Turns the echo request `frame` (classified into `req`) into the echo reply
// in place: MACs and IPs swapped, TTL 64, type 0, IP checksum recomputed, ICMP
// checksum updated incrementally (RFC 1624). `len` is the received frame
// length. Returns the reply's frame length: 14 + 20 + ICMP message, so any
// Ethernet padding of the request is not sent back, nor its IP options (the
// message moves up behind a 20-byte header).
uint32_t make_icmp_echo_reply_inplace(uint8_t* frame, uint32_t len, const pkt_info& req);

} // namespace fg::net
