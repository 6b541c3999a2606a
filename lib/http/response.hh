// http::response_parser reads one HTTP/1.1 response at a time, incrementally:
// the status line, the header fields (RFC 9112 2-6), then the body, which it
// only counts -- it never holds more than the 12 bytes of itself, so a
// load generator can keep one per connection next to the TCP state.
//
// What it understands: HTTP/1.x versions; the status code (2xx is "ok");
// Content-Length (one field, decimal, up to 2^32-1); Connection tokens close
// and keep-alive (HTTP/1.0 keeps the connection only with keep-alive); 1xx
// interim responses (skipped: the final response follows; 101 is refused as
// bad_status: we never ask to switch protocols); responses without a body
// (204, 304); a body delimited by the connection's close when there is no
// Content-Length (finish() ends it). Transfer-Encoding (chunked) is refused as
// `unsupported`: the body length would need chunk parsing we do not do.
// Everything else is checked for syntax and skipped. The request is always
// GET (a HEAD response would be misread as having a body).
//
// Line ends are CRLF; a bare LF is accepted as one (RFC 9112 2.2 allows it),
// a bare CR is bad_line_end. Obsolete line folding is rejected (5.2 allows).
//
// Use: feed() the bytes as they arrive. `more`: give the next bytes. `done`:
// a response ended after `consumed` bytes; ok() / close() describe it; call
// reset() before the next. `bad` / `unsupported`: error() says why; the
// connection cannot be trusted any further. At the peer's FIN call finish().
#pragma once

#include <cstdint>

#include "http/parse.hh"

namespace fg::http {

class response_parser {
public:
    // Ready for the first byte of a response.
    void reset() { *this = response_parser{}; }

    // Feeds n bytes; returns how many belong to this response (all of them
    // unless `done` or an error came before the end). Never reads past p + n.
    uint32_t feed(const uint8_t* p, uint32_t n, parse_status& st);

    // The peer closed the connection (FIN): `done` if that ends a body that
    // runs to the close, else `bad` with error() truncated (also when nothing
    // of the response arrived: started() tells the two apart).
    parse_status finish();

    bool started() const { return _phase != p_version || _idx != 0; }
    bool complete() const { return _phase == p_done; }
    uint16_t status() const { return _status; }      // 0 until the status line was read
    bool ok() const { return _status >= 200 && _status <= 299; }
    // The server will close the connection after this response: Connection:
    // close, HTTP/1.0 without keep-alive, or a body that ends with the close.
    bool close() const;
    uint32_t body_left() const { return _phase == p_body ? _value : 0; }
    parse_error error() const { return (_phase == p_bad || _phase == p_unsupported) ? parse_error(_idx) : parse_error::none; }

private:
    enum phase : uint8_t {
        p_version,   // "HTTP/" (_idx bytes matched)
        p_major,     // one digit
        p_dot,       // "."
        p_minor,     // one digit
        p_sp,        // SP before the status code
        p_code,      // three digits (_idx of them so far, value in _value)
        p_after_code, // SP (reason follows), or the end of the line
        p_reason,    // reason-phrase up to the end of the line
        p_line_lf,   // CR seen at the end of a line: LF next
        p_hdr_start, // first byte of a header line, or the empty line
        p_end_lf,    // CR of the empty line: LF ends the header section
        p_name,      // field name (_cand: known names still matching, _idx: position)
        p_ows,       // OWS after the colon (_cand: the field, as a known-field index or 0xff)
        p_value,     // a field value we do not read
        p_cl,        // Content-Length digits
        p_cl_ows,    // OWS after them, then the end of the line
        p_conn,      // Connection tokens (_cand: tokens still matching, _idx: position)
        p_body,      // _value body bytes left
        p_body_eof,  // body until the connection closes
        p_done,
        p_bad,         // _idx holds the parse_error
        p_unsupported, // _idx holds the parse_error
    };
    enum flag : uint8_t {
        f_http10 = 1u << 0,    // HTTP/1.0 response
        f_cl = 1u << 1,        // Content-Length seen
        f_te = 1u << 2,        // Transfer-Encoding seen
        f_close = 1u << 3,     // Connection: close
        f_keepalive = 1u << 4, // Connection: keep-alive
    };

    parse_status fail(parse_error e, parse_status& st)
    {
        _phase = p_bad;
        _idx = uint8_t(e);
        st = parse_status::bad;
        return st;
    }
    // The empty line ended the header section: what follows?
    parse_status headers_done(parse_status& st);
    void end_conn_token();

    uint32_t _value = 0;  // status code digits, then Content-Length, then body bytes left
    uint16_t _status = 0; // status code once read
    uint8_t _phase = p_version;
    uint8_t _idx = 0;
    uint8_t _cand = 0;
    uint8_t _flags = 0;

public:
    // Two bytes the owner may use (the client keeps its per-connection flags
    // here); reset() clears them too.
    uint16_t user = 0;
};
static_assert(sizeof(response_parser) == 12, "a response parser lives in a connection's 12-byte app area");

} // namespace fg::http
