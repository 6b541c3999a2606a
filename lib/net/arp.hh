// ARP for IPv4 over Ethernet (RFC 826) on DPDK's rte_arp_hdr: the frames the
// neighbour code sends (request, reply, gratuitous announcement) and the reply
// built in place in a received request's buffer. Every builder returns the
// frame length it wrote: 42 bytes, unpadded (NICs pad short frames to 60).
// IP addresses are rte_be32_t, network order. MAC/IP arguments are copied
// before the buffer is written, so they may point into it.
#pragma once

#include <cstdint>

#include <rte_arp.h>
#include <rte_ether.h>

#include "net/classify.hh"

namespace fg::net {

inline constexpr uint32_t arp_frame_len = sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr); // 42

// Who has target_ip? Tell src_ip. Broadcast, target MAC zero (as Linux).
uint32_t make_arp_request(uint8_t* buf, const rte_ether_addr& src_mac, rte_be32_t src_ip, rte_be32_t target_ip);

// src_ip is at src_mac: unicast to dst_mac/dst_ip.
uint32_t make_arp_reply(uint8_t* buf, const rte_ether_addr& src_mac, rte_be32_t src_ip, const rte_ether_addr& dst_mac,
                        rte_be32_t dst_ip);

// Announcement: a broadcast request with sender IP == target IP (RFC 5227 2.3).
uint32_t make_gratuitous_arp(uint8_t* buf, const rte_ether_addr& src_mac, rte_be32_t ip);

// Turns the received request `frame` (classified into `req`) into our reply,
// in place: "req.arp_tip is at our_mac", sent to the requester's MAC. The
// caller has checked that req.arp_tip is ours.
uint32_t make_arp_reply_inplace(uint8_t* frame, const pkt_info& req, const rte_ether_addr& our_mac);

} // namespace fg::net
