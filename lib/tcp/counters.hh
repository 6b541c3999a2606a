// Per-lcore TCP counters: every segment the engine drops or refuses, every
// segment it sends and every state change it makes is counted under a name.
// One X-macro line per counter gives the enum, the name string and the
// JSON/telemetry key, so a counter can never exist under two names (VPP
// tcp_error.def). A tcp_counters block belongs to one engine (one lcore) and
// is written by it alone; readers (stats, telemetry) sum the blocks of all
// lcores and may see values a few packets old.
#pragma once

#include <cstdint>

// X(name, "what it counts"). Passive side first, then active, then closes.
#define FG_FOREACH_TCP_COUNTER(X)                                                                                   \
    /* ---- passive open (listen.cc, synrecv.cc) ---- */                                                            \
    X(syn_received, "SYNs that reached a listener")                                                                 \
    X(synack_sent, "SYN-ACKs sent, first transmissions (request and cookie)")                                       \
    X(synack_retransmits, "SYN-ACKs sent again by the retransmit timer")                                            \
    X(synack_dup_syn, "SYN-ACKs sent again because a duplicate SYN arrived in SYN-RECEIVED")                       \
    X(synack_timeouts, "requests dropped after the last SYN-ACK retransmission went unanswered")                    \
    X(requests_created, "half-open request entries created (SYN-RECEIVED)")                                         \
    X(cookies_sent, "SYN-ACKs carrying a SYN cookie")                                                               \
    X(cookies_accepted, "ACKs whose cookie was valid: connection created")                                          \
    X(cookies_rejected, "ACKs checked as cookies and found invalid (answered with RST)")                            \
    X(syn_queue_full_cookies, "SYNs answered with a cookie because this lcore's share of the SYN queue was full")  \
    X(syn_accept_queue_full, "SYNs dropped because the accept ring was full (Linux ListenOverflows on SYN)")     \
    X(syn_queue_overflows, "SYNs dropped: SYN queue full and cookies off (Linux TCPReqQFullDrop)")                  \
    X(accepted, "connections handed to the listener's accept ring")                                                \
    X(accept_queue_overflows, "third ACKs ignored because the accept ring was full (Linux ListenOverflows)")        \
    X(idle_timeouts, "held connections closed (FIN) after listen_options::idle_timeout_ms without a segment")        \
    X(listen_rst_ignored, "RSTs to a listener, ignored (RFC 9293 3.10.7.2)")                                       \
    X(listen_ack_rst, "ACK or SYN+ACK to a listener (no request, no cookie): RST <SEQ=SEG.ACK>")                   \
    X(listen_no_syn_dropped, "segments to a listener with neither SYN, ACK nor RST (e.g. FIN alone): dropped")    \
    X(synfin_dropped, "SYN+FIN segments dropped")                                                                   \
    X(synrst_dropped, "SYN+RST segments dropped")                                                                   \
    X(noflags_dropped, "segments without any of SYN/ACK/RST/FIN dropped")                                          \
    X(no_listener, "segments to a port nobody listens on (answered with RST/ACK unless rate limited)")             \
    X(listener_gone, "requests or connections whose listener was closed meanwhile: dropped")                       \
    X(bad_ack_synrecv, "unacceptable ACK in SYN-RECEIVED: RST <SEQ=SEG.ACK>")                                      \
    X(synrecv_rst, "acceptable RSTs in SYN-RECEIVED: request dropped")                                             \
    X(synrecv_syn_reset, "new SYNs (not a retransmission) in SYN-RECEIVED: RST sent, request dropped (Linux)")    \
    X(synrecv_out_of_window, "unacceptable segments in SYN-RECEIVED: ACK sent, segment dropped")                  \
    X(synrecv_no_ack_dropped, "segments without ACK in SYN-RECEIVED: dropped")                                     \
    /* ---- synchronized states (established.cc) ---- */                                                            \
    X(out_of_window, "unacceptable segments in a synchronized state: ACK sent, segment dropped")                   \
    X(ack_too_new, "ACKs of data we never sent (SEG.ACK > SND.NXT): challenge ACK, segment dropped")             \
    X(ack_too_old, "ACKs at or below our ISN (RFC 5961 5.2): challenge ACK, segment dropped")                       \
    X(paws_rejected, "segments whose TSval is older than the last one taken (PAWS): ACKed, dropped")               \
    X(oow_ack_rate_limited, "out-of-window or challenge ACKs not sent: the connection sent one < 500 ms ago (Linux)") \
    X(no_ack_dropped, "segments without ACK in a synchronized state: dropped (3.10.7.4 fifth)")                   \
    X(rst_received, "RSTs that reset a connection or a request")                                                    \
    X(rst_out_of_window, "RSTs outside the receive window: dropped")                                               \
    X(challenge_acks, "challenge ACKs sent (RFC 5961 in-window RST or SYN)")                                       \
    X(challenge_ack_rate_limited, "challenge ACKs not sent because of the rate limit")                              \
    X(data_segments, "segments carrying payload on a synchronized connection")                                     \
    X(payload_bytes_discarded, "payload bytes ACKed and discarded (no data transfer yet)")                         \
    X(acks_sent, "pure ACKs sent (data, FIN, out-of-window, challenge ACKs excluded)")                             \
    /* ---- output (output.cc) ---- */                                                                              \
    X(rst_sent, "RSTs sent")                                                                                        \
    X(rst_rate_limited, "RSTs to closed ports not sent because of the rate limit")                                 \
    X(no_neighbour, "segments not sent: no L2 destination for the peer")                                           \
    X(mbuf_alloc_failed, "segments not sent: mbuf pool empty")                                                     \
    /* ---- resources ---- */                                                                                       \
    X(pool_exhausted, "SYNs or cookie ACKs refused: connection pool empty")                                        \
    X(table_full, "SYNs or cookie ACKs refused: established table full")                                           \
    X(event_ring_full, "events to application threads dropped: lcore event ring full")                             \
    X(local_event_overflow, "local application events lost: queue full between safe points (a bug; never expected)") \
    X(stale_handle, "commands for a handle that no longer names a live connection")                                \
    X(bad_command, "commands not valid in the connection's state or of unknown type")                              \
    X(state_unhandled, "segments for a state whose handler is not written yet: dropped")                           \
    /* ---- active open (connect.cc, synsent.cc) ---- */                                                            \
    X(attempted, "connect() attempts that sent a SYN")                                                              \
    X(established, "active connections that reached ESTABLISHED")                                                  \
    X(refused, "active connections refused (RST in SYN-SENT)")                                                     \
    X(timed_out, "active connections timed out (SYN retries exhausted)")                                           \
    X(unreachable, "connect() with no route or no neighbour")                                                      \
    X(no_port, "connect() with no free local port")                                                                \
    X(syn_retransmits, "SYNs sent again by the retransmit timer")                                                  \
    X(time_wait_entered, "connections that entered TIME_WAIT")                                                     \
    X(time_wait_expired, "TIME_WAIT entries freed by their timer")                                                 \
    X(time_wait_reused, "TIME_WAIT entries reused by a new connection")                                            \
    X(synsent_bad_ack, "unacceptable ACKs in SYN-SENT (SEG.ACK =< ISS or > SND.NXT): RST <SEQ=SEG.ACK>")          \
    X(synsent_bad_ack_rst, "RSTs with an unacceptable ACK in SYN-SENT: dropped")                                  \
    X(synsent_rst_no_ack, "RSTs without ACK in SYN-SENT: dropped")                                                \
    X(synsent_no_syn, "segments in SYN-SENT with neither SYN nor RST: dropped")                                   \
    X(paws_active_rejected, "SYN-ACKs whose TSecr is not between our first SYN's TSval and now: RST (Linux)")     \
    X(simultaneous_opens, "SYNs without ACK in SYN-SENT: SYN-ACK sent (simultaneous open)")                       \
    X(simopen_dropped, "segments dropped in a simultaneous open's SYN-RECEIVED (no ACK, bad sequence)")           \
    X(fin_wait_2_timeouts, "FIN-WAIT-2 connections freed by fin_timeout (Linux tcp_fin_timeout)")                \
    X(time_wait_acks, "segments answered with an ACK in TIME-WAIT (retransmitted FIN, old duplicates)")           \
    X(time_wait_dropped, "segments consumed in TIME-WAIT without reply (in-window ACK, stray or PAWS-old RST)")    \
    X(time_wait_killed, "TIME-WAIT entries freed by an RST (Linux tcp_rfc1337=0)")                                 \
    X(time_wait_syn, "new SYNs to a TIME-WAIT 4-tuple handed to a listener (Linux TCP_TW_SYN)")                    \
    /* ---- data path (data.cc, send.cc): connections an app serves ---- */                                        \
    X(streams_opened, "connections handed to an app on the lcore (stream.hh) when ESTABLISHED")                    \
    X(data_segments_sent, "segments carrying payload sent, first transmissions")                                   \
    X(data_bytes_sent, "payload bytes sent, first transmissions")                                                  \
    X(data_retransmits, "segments sent again (RTO, or a partial ACK after one)")                                   \
    X(rto_expired, "retransmission timeouts of data or FIN on a stream (RFC 6298 5.4-5.6)")                        \
    X(partial_ack_retransmits, "holes sent again at once on a partial ACK after an RTO (RFC 6582 3.2)")           \
    X(data_timeouts, "streams dropped after data_retries RTOs without progress (Linux tcp_retries2)")              \
    X(window_probes, "zero-window probes <SEQ=SND.UNA-1> sent")                                                    \
    X(rx_bytes_delivered, "in-order payload bytes the app consumed")                                              \
    X(rx_bytes_deferred, "in-order payload bytes the app left (not ACKed: the peer sends them again)")             \
    X(rx_out_of_order, "segments beyond RCV.NXT: payload dropped, duplicate ACK sent (the peer resends)")          \
    X(rx_after_fin, "payload after the peer's FIN: dropped")                                                       \
    X(stream_send_refused, "stream::send() refused: another template in flight, 255 queued, or closing")          \
    /* ---- close (close.cc, established.cc, active_close.cc) ---- */                                              \
    X(fin_sent, "FINs sent, first transmissions")                                                                   \
    X(fin_retransmits, "FINs sent again by the retransmit timer")                                                  \
    X(fin_timeouts, "connections freed after the last FIN retransmission went unanswered")                         \
    X(fin_received, "FINs accepted from the peer")                                                                  \
    X(closed, "connections that closed in order (freed after the FIN exchange)")                                   \
    X(aborted, "connections aborted by the application (RST sent)")

namespace fg::tcp {

enum class ctr : uint16_t {
#define FG_X(name, doc) name,
    FG_FOREACH_TCP_COUNTER(FG_X)
#undef FG_X
        count
};

inline constexpr unsigned n_counters = unsigned(ctr::count);

// The counter's name, e.g. "syn_received" (also its JSON/telemetry key).
inline const char* counter_name(ctr c)
{
    static constexpr const char* names[] = {
#define FG_X(name, doc) #name,
        FG_FOREACH_TCP_COUNTER(FG_X)
#undef FG_X
    };
    return unsigned(c) < n_counters ? names[unsigned(c)] : "unknown";
}

// One sentence saying what the counter counts.
inline const char* counter_doc(ctr c)
{
    static constexpr const char* docs[] = {
#define FG_X(name, doc) doc,
        FG_FOREACH_TCP_COUNTER(FG_X)
#undef FG_X
    };
    return unsigned(c) < n_counters ? docs[unsigned(c)] : "";
}

struct tcp_counters {
    uint64_t v[n_counters] = {};

    void inc(ctr c) { v[unsigned(c)]++; }
    void add(ctr c, uint64_t n) { v[unsigned(c)] += n; }
    uint64_t get(ctr c) const { return v[unsigned(c)]; }
    uint64_t operator[](ctr c) const { return v[unsigned(c)]; }
};

} // namespace fg::tcp
