#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <caf/actor.hpp>

#include "actors/messages.hpp"
#include "actors/token_bucket.hpp"
#include "net/coalescing_stream.hpp"
#include "net/server_context.hpp"

namespace actorexec::net {

/// One WebSocket: the stream, its read loop and its write side (frames go
/// to the coalescing_stream in order, bounded by the connection's window).
/// Client frames go to the connection actor by message; the actor's frames come
/// back through an outbox that posts to this session's strand. Nothing here
/// touches actor state.
class websocket_session
    : public std::enable_shared_from_this<websocket_session> {
public:
  websocket_session(boost::asio::ip::tcp::socket&& socket,
                    std::shared_ptr<server_context> ctx);
  ~websocket_session();

  /// Accepts the upgrade `req` (echoing `info.subprotocol`, holding
  /// `info.slot` for the socket's lifetime) and starts reading.
  void run(boost::beast::http::request<boost::beast::http::string_body> req,
           upgrade_info info = {});

  /// Queues frames for writing. Runs on the strand.
  void enqueue(frame_batch&& frames);

  /// Closes with `code` once the queue is written. Runs on the strand.
  void start_close(std::uint16_t code, std::string reason);

  /// The connection actor handled client frames worth `charge`: reading
  /// may go on. Runs on the strand.
  void on_consumed(std::uint64_t charge);

private:
  void on_accept(boost::system::error_code ec);
  void do_read();
  void on_read(boost::system::error_code ec, std::size_t n);
  /// Hands a client frame to the connection actor, charging the window.
  void deliver(std::string text);
  /// The peer sent a Close: the session ends now (spec section 3), queued
  /// output is dropped, and the connection is cut if our answer cannot
  /// reach the peer soon.
  void on_peer_close();
  /// Charges a peer's ping to its budget; a flood closes with 1008.
  void on_peer_ping();
  void arm_json_ping();
  /// Ends the TCP connection at once (a reset), whatever is still queued.
  void abort_socket();
  /// Stops reading until the connection actor hands back read charge.
  void pause_reading();
  /// Lets go of the hold of paused reads (later, never inside a member
  /// function that still runs).
  void release_hold();
  /// The stream wrote a batch holding `frame_bytes` of queued frames.
  void on_written(boost::system::error_code ec, std::uint64_t frame_bytes);
  void do_close();
  void arm_heartbeat();
  /// Pings a quiet peer; drops one that is dead (spec section 7).
  void on_heartbeat();
  /// Notes that the peer's TCP acknowledged a good amount of our output.
  void note_drain_progress(std::chrono::steady_clock::time_point now);
  void peer_gone(bool clean, std::uint16_t code);
  void fail(boost::system::error_code ec, const char* what);

  boost::beast::websocket::stream<coalescing_stream> ws_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<server_context> ctx_;
  std::uint64_t id_ = 0;
  /// This socket's place under the connection limits.
  std::shared_ptr<void> slot_;
  /// The connection actor (set once the handshake succeeded).
  caf::actor conn_;
  /// The close we were asked to send.
  std::optional<boost::beast::websocket::close_reason> close_pending_;
  /// We sent (or are sending) a Close frame.
  bool closing_ = false;
  /// The connection actor has been told the socket is gone.
  bool gone_ = false;
  /// Bounds our close handshake. Beast 1.81 can deadlock a close op against
  /// a read op that fails the connection at the same moment (both wait for
  /// the other's lock); the guard then drops the socket and frees the
  /// session's slot all the same.
  boost::asio::steady_timer close_guard_;
  /// The heartbeat: when something last arrived, when a write last made
  /// progress, when we last pinged.
  boost::asio::steady_timer heartbeat_;
  std::chrono::steady_clock::time_point last_heard_;
  std::chrono::steady_clock::time_point last_progress_;
  std::chrono::steady_clock::time_point last_ping_;
  bool pinging_ = false;
  /// The peer's acknowledged bytes when progress was last noted.
  std::uint64_t acked_mark_ = 0;
  /// Client frames handed to the connection actor and not yet handled, as
  /// charged (`inbound_charge`). Reading stops at the window, so what a
  /// client sends waits in its TCP buffers, not in our memory.
  std::uint64_t inbound_pending_ = 0;
  /// No read is outstanding because the window is full.
  bool read_paused_ = false;
  /// Keeps us alive while reads are paused: no operation is pending then
  /// to hold us, and the socket must stay open until the actor catches up.
  std::shared_ptr<websocket_session> paused_hold_;
  /// The peer sent a Close frame first.
  bool peer_closing_ = false;
  /// The peer's pings, charged to a budget of its request rate.
  token_bucket ping_budget_;
  bool ping_flood_ = false;
  /// The period of the JSON `ping` notification. Its clock lives here, with
  /// the socket: one in the connection actor kept the actor alive until it
  /// fired, up to 30 s after the connection had ended.
  boost::asio::steady_timer json_ping_;
  /// Speaks MCP (`/mcp`), not the seed protocol.
  bool mcp_ = false;
};

} // namespace actorexec::net
