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
  void enqueue(const frame_list& frames);

  /// Closes with `code` once the queue is written. Runs on the strand.
  void start_close(std::uint16_t code, std::string reason);

private:
  void on_accept(boost::system::error_code ec);
  void do_read();
  void on_read(boost::system::error_code ec, std::size_t n);
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
};

} // namespace actorexec::net
