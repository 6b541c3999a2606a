// TCP options in SYN-era handshakes: MSS, window scale, SACK-permitted and
// timestamps (RFC 9293 3.1, RFC 7323, RFC 2018). Parsing follows Linux's
// tcp_parse_options() rule for rule, and writing lays the options out byte for
// byte as Linux's tcp_options_write() does, so a peer (or a test diffing
// against the kernel) sees exactly what a Linux host would send.
//
// Parse rules: EOL ends the list; NOP is skipped; an option whose length byte
// is < 2 or runs past the end ends parsing; an option with the wrong fixed size
// is skipped; MSS, window scale and SACK-permitted count only on SYN segments;
// MSS 0 is ignored; a later duplicate overrides an earlier one; window scale
// above 14 is clamped to 14 (RFC 7323 2.3); timestamps count on any segment.
#pragma once

#include <cstdint>

namespace fg::net {

// Option kinds and lengths (IANA).
inline constexpr uint8_t tcpopt_eol = 0;
inline constexpr uint8_t tcpopt_nop = 1;
inline constexpr uint8_t tcpopt_mss = 2;
inline constexpr uint8_t tcpopt_window = 3;
inline constexpr uint8_t tcpopt_sack_perm = 4;
inline constexpr uint8_t tcpopt_sack = 5;
inline constexpr uint8_t tcpopt_timestamp = 8;
inline constexpr uint8_t tcpolen_mss = 4;
inline constexpr uint8_t tcpolen_window = 3;
inline constexpr uint8_t tcpolen_sack_perm = 2;
inline constexpr uint8_t tcpolen_timestamp = 10;

inline constexpr uint8_t tcp_max_wscale = 14;       // RFC 7323 2.3: shift counts above 14 are treated as 14
inline constexpr uint16_t tcp_min_snd_mss = 48;     // Linux net.ipv4.tcp_min_snd_mss default: no smaller segments
inline constexpr uint16_t tcp_default_mss = 536;    // RFC 9293 3.7.1 / Linux TCP_MSS_DEFAULT: no MSS option
inline constexpr uint32_t tcp_max_options_len = 40; // doff 15 * 4 - 20

struct tcp_options {
    uint16_t mss = 0;       // host order; valid if has_mss
    uint8_t wscale = 0;     // shift count, <= 14; valid if has_wscale
    bool has_mss = false;
    bool has_wscale = false;
    bool sack_ok = false;   // SACK-permitted seen / to send
    bool has_ts = false;
    uint32_t ts_val = 0;    // host order; valid if has_ts
    uint32_t ts_ecr = 0;    // host order; valid if has_ts

    friend bool operator==(const tcp_options&, const tcp_options&) = default;
};

// Parses `len` bytes of options at `p` (len <= 40, as pkt_info::opt_len is).
// `syn`: the segment has SYN set. `out` is reset first.
void parse_tcp_options(const uint8_t* p, uint32_t len, bool syn, tcp_options& out);

// The MSS to send to: the peer's MSS raised to 48, or 536 without the option.
inline uint16_t effective_mss(const tcp_options& o)
{
    if (!o.has_mss) {
        return tcp_default_mss;
    }
    return o.mss < tcp_min_snd_mss ? tcp_min_snd_mss : o.mss;
}

// Bytes write_tcp_options() writes for `o` (a multiple of 4, at most 20).
inline uint32_t tcp_options_len(const tcp_options& o)
{
    uint32_t n = o.has_mss ? 4 : 0;
    if (o.has_ts) {
        n += 12; // SACK_PERM+TS or NOP,NOP,TS
    } else if (o.sack_ok) {
        n += 4; // NOP,NOP,SACK_PERM
    }
    if (o.has_wscale) {
        n += 4; // NOP,WS
    }
    return n;
}

// Writes the options in Linux's order and layout: MSS; SACK_PERM+TS, or
// NOP,NOP,TS, or NOP,NOP,SACK_PERM; NOP,WS. Returns tcp_options_len(o).
uint32_t write_tcp_options(uint8_t* dst, const tcp_options& o);

} // namespace fg::net
