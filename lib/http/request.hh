// http::request_parser reads one HTTP/1.1 request at a time, incrementally:
// the request line and header fields (RFC 9112 3, 5), then a request body
// delimited by Content-Length, which it skips without looking. 12 bytes,
// nothing buffered: a server keeps one per connection in its app area.
//
// What it keeps: whether the method is HEAD (the response then has no body),
// the HTTP version (1.0 or 1.1+), the Connection tokens close / keep-alive
// and so whether the connection persists (RFC 9112 9.3: HTTP/1.1 unless
// "close"; HTTP/1.0 only with "keep-alive"), Content-Length, and whether Host
// was present (an HTTP/1.1 request without exactly one Host is bad, 3.2).
// The method's name and the request-target are checked (token; no control
// characters) and not kept: the server answers every target alike.
// Transfer-Encoding in a request is `unsupported` (we cannot find the end of
// a chunked body); the server answers it 400 and closes.
//
// The request line and headers together may be at most `max_head` bytes
// (feed()'s argument, at most 65535): the head normally fits in one TCP
// segment; a longer one is head_too_large. Empty lines before a request line
// are skipped (RFC 9112 2.2). Line ends as in response.hh.
#pragma once

#include <cstdint>

#include "http/parse.hh"

namespace fg::http {

class request_parser {
public:
    static constexpr uint32_t default_max_head = 8192; // nginx's large_client_header_buffers line size

    void reset() { *this = request_parser{}; }

    // Feeds n bytes; returns how many belong to this request (all unless
    // `done` or an error came first). Never reads past p + n.
    uint32_t feed(const uint8_t* p, uint32_t n, uint32_t max_head, parse_status& st);

    bool started() const { return _phase != p_start || _head != 0; }
    bool complete() const { return _phase == p_done; }
    bool head_method() const { return (_flags & f_head) != 0; }
    bool http10() const { return (_flags & f_http10) != 0; }
    // The client wants the connection kept open after the response.
    bool keep_alive() const
    {
        return !(_flags & f_close) && (!(_flags & f_http10) || (_flags & f_keepalive));
    }
    // The request line and headers are read (the body, if any, may still be coming).
    bool head_done() const { return _phase == p_body || _phase == p_done; }
    parse_error error() const { return (_phase == p_bad || _phase == p_unsupported) ? parse_error(_idx) : parse_error::none; }

private:
    enum phase : uint8_t {
        p_start,     // empty lines, then the first byte of the method
        p_method,    // method token (_cand: GET/HEAD still matching)
        p_target,    // request-target
        p_version,   // "HTTP/" (_idx matched)
        p_major,
        p_dot,
        p_minor,
        p_line_lf,   // CR at the end of a line: LF next
        p_hdr_start, // first byte of a field line, or the empty line
        p_end_lf,    // CR of the empty line
        p_name,      // field name
        p_ows,       // OWS after the colon (_cand: field index or 0xff)
        p_value,     // a value we do not read
        p_cl,        // Content-Length digits
        p_cl_ows,
        p_conn,      // Connection tokens
        p_body,      // _value body bytes left
        p_done,
        p_bad,
        p_unsupported,
    };
    enum flag : uint8_t {
        f_http10 = 1u << 0,
        f_cl = 1u << 1,
        f_te = 1u << 2,
        f_close = 1u << 3,
        f_keepalive = 1u << 4,
        f_host = 1u << 5,
        f_head = 1u << 6,
    };

    parse_status fail(parse_error e, parse_status& st)
    {
        _phase = p_bad;
        _idx = uint8_t(e);
        st = parse_status::bad;
        return st;
    }
    parse_status headers_done(parse_status& st);
    void end_conn_token();

    uint32_t _value = 0; // Content-Length, then body bytes left
    uint16_t _head = 0;  // bytes of the request line and headers so far
    uint8_t _phase = p_start;
    uint8_t _idx = 0;
    uint8_t _cand = 0;
    uint8_t _flags = 0;

public:
    // Two bytes the owner may use (the server keeps its per-connection flags
    // here); reset() clears them too.
    uint16_t user = 0;
};
static_assert(sizeof(request_parser) == 12, "a request parser lives in a connection's 12-byte app area");

} // namespace fg::http
