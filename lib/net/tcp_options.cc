#include "net/tcp_options.hh"

#include <cstring>

#include <rte_byteorder.h>

namespace fg::net {
namespace {

uint16_t get_be16(const uint8_t* p)
{
    return uint16_t((uint16_t(p[0]) << 8) | p[1]);
}

uint32_t get_be32(const uint8_t* p)
{
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// MSS(4) + SACK_PERM(2) + TS(10) + NOP + WS(3): the options of every Linux SYN.
constexpr uint32_t linux_syn_options_len = 20;

void put_be32(uint8_t* p, uint32_t v)
{
    const uint32_t be = rte_cpu_to_be_32(v);
    std::memcpy(p, &be, sizeof(be));
}

} // namespace

// Linux net/ipv4/tcp_input.c tcp_parse_options(), for a socket not yet
// established (the only case Floodgate parses options in) with window scaling,
// timestamps and SACK enabled.
void parse_tcp_options(const uint8_t* p, uint32_t len, bool syn, tcp_options& out)
{
    out = tcp_options{};
    // Fast paths for the two layouts Linux sends, checked whole with a few
    // word compares (as Linux's own tcp_parse_aligned_timestamp does); they
    // give exactly what the loop below would give. The general loop costs a
    // dependent load chain per option (bench-parse BM_ParseTcpOptions).
    if (len == linux_syn_options_len) {
        // MSS | SACK_PERM, TS kind+len | ts_val | ts_ecr | NOP, WS kind+len, shift
        const uint32_t w0 = get_be32(p);
        const uint32_t w4 = get_be32(p + 16);
        if ((w0 >> 16) == 0x0204 && get_be32(p + 4) == 0x0402080a && (w4 >> 8) == 0x010303) {
            out.has_ts = true;
            out.ts_val = get_be32(p + 8);
            out.ts_ecr = get_be32(p + 12);
            if (syn) {
                out.mss = uint16_t(w0);
                out.has_mss = out.mss != 0;
                out.sack_ok = true;
                out.has_wscale = true;
                const uint8_t ws = uint8_t(w4);
                out.wscale = ws > tcp_max_wscale ? tcp_max_wscale : ws;
            }
            return;
        }
    } else if (len == 12 && get_be32(p) == 0x0101080a) {
        // NOP, NOP, TS: every later segment of a connection with timestamps.
        out.has_ts = true;
        out.ts_val = get_be32(p + 4);
        out.ts_ecr = get_be32(p + 8);
        return;
    }
    const uint8_t* ptr = p;
    uint32_t length = len; // bytes left, counted from the current option's kind byte
    while (length > 0) {
        const uint8_t opcode = *ptr++;
        if (opcode == tcpopt_eol) {
            return;
        }
        if (opcode == tcpopt_nop) {
            length--;
            continue;
        }
        if (length < 2) {
            return;
        }
        const uint8_t opsize = *ptr++;
        if (opsize < 2) {
            return; // "silly options"
        }
        if (opsize > length) {
            return; // don't parse partial options
        }
        switch (opcode) {
        case tcpopt_mss:
            if (opsize == tcpolen_mss && syn) {
                const uint16_t mss = get_be16(ptr);
                if (mss != 0) {
                    out.mss = mss;
                    out.has_mss = true;
                }
            }
            break;
        case tcpopt_window:
            if (opsize == tcpolen_window && syn) {
                out.has_wscale = true;
                out.wscale = *ptr > tcp_max_wscale ? tcp_max_wscale : *ptr;
            }
            break;
        case tcpopt_timestamp:
            if (opsize == tcpolen_timestamp) {
                out.has_ts = true;
                out.ts_val = get_be32(ptr);
                out.ts_ecr = get_be32(ptr + 4);
            }
            break;
        case tcpopt_sack_perm:
            if (opsize == tcpolen_sack_perm && syn) {
                out.sack_ok = true;
            }
            break;
        default:
            break; // SACK blocks, MD5, Fast Open, experimental: skipped
        }
        ptr += opsize - 2;
        length -= opsize;
    }
}

// Linux net/ipv4/tcp_output.c tcp_options_write(), the options of a SYN or
// SYN-ACK (no MD5, no SACK blocks, no Fast Open).
uint32_t write_tcp_options(uint8_t* dst, const tcp_options& o)
{
    uint8_t* p = dst;
    if (o.has_mss) {
        p[0] = tcpopt_mss;
        p[1] = tcpolen_mss;
        p[2] = uint8_t(o.mss >> 8);
        p[3] = uint8_t(o.mss);
        p += 4;
    }
    if (o.has_ts) {
        if (o.sack_ok) {
            p[0] = tcpopt_sack_perm;
            p[1] = tcpolen_sack_perm;
        } else {
            p[0] = tcpopt_nop;
            p[1] = tcpopt_nop;
        }
        p[2] = tcpopt_timestamp;
        p[3] = tcpolen_timestamp;
        put_be32(p + 4, o.ts_val);
        put_be32(p + 8, o.ts_ecr);
        p += 12;
    } else if (o.sack_ok) {
        p[0] = tcpopt_nop;
        p[1] = tcpopt_nop;
        p[2] = tcpopt_sack_perm;
        p[3] = tcpolen_sack_perm;
        p += 4;
    }
    if (o.has_wscale) {
        p[0] = tcpopt_nop;
        p[1] = tcpopt_window;
        p[2] = tcpolen_window;
        p[3] = o.wscale;
        p += 4;
    }
    return uint32_t(p - dst);
}

} // namespace fg::net
