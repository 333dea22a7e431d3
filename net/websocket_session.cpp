#include "net/websocket_session.hpp"

#include <algorithm>
#include <chrono>

#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "actors/connection.hpp"
#include "actors/log.hpp"
#include "actors/mcp_connection.hpp"
#include "actors/outbox.hpp"
#include "net/close_codes.hpp"
#include "net/socket_outbox.hpp"

namespace actorexec::net {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using namespace std::chrono;

namespace {

/// After the peer's Close, how long our answer may take to reach it before
/// the connection is cut: a client that stopped reading (its queue full of
/// our output) would otherwise hold the socket until its own timeout.
constexpr auto peer_close_timeout = milliseconds{1000};

/// Errors that mean the peer broke the protocol; Beast already answered them
/// with the right Close code (1007, 1009, 1002).
bool is_protocol_violation(boost::system::error_code ec) {
  auto& ws_category = make_error_code(websocket::error::closed).category();
  return ec.category() == ws_category && ec != websocket::error::closed;
}

/// The code Beast sent when it failed the connection with `ec` (see
/// websocket/impl/read.hpp), for the close counters.
std::uint16_t close_code_of(boost::system::error_code ec) {
  if (ec == websocket::error::message_too_big)
    return 1009;
  if (ec == websocket::error::bad_frame_payload)
    return 1007;
  return 1002;
}

} // namespace

websocket_session::websocket_session(asio::ip::tcp::socket&& socket,
                                     std::shared_ptr<server_context> ctx)
    : ws_(std::move(socket)), ctx_(std::move(ctx)),
      close_guard_(ws_.get_executor()), heartbeat_(ws_.get_executor()),
      json_ping_(ws_.get_executor()) {
  id_ = ctx_->next_connection_id++;
}

websocket_session::~websocket_session() {
  if (conn_ && !gone_)
    caf::anon_send(conn_, peer_gone_atom::value, false, std::uint16_t{1006});
}

void websocket_session::run(beast::http::request<beast::http::string_body> req,
                            upgrade_info info) {
  slot_ = std::move(info.slot);
  mcp_ = info.mcp;
  // A client may send its first frames in the packet of its upgrade request:
  // the HTTP reader took them, the WebSocket reads them first.
  ws_.next_layer().prepend_input(std::move(info.early_bytes));
  ping_budget_ = token_bucket{ctx_->cfg->rate_limit_rps,
                              ctx_->cfg->rate_limit_burst, steady_clock::now()};
  // From the handshake's response on, a write on the wire keeps us alive.
  ws_.next_layer().on_written(
      [this](auto ec, std::uint64_t n) { on_written(ec, n); },
      weak_from_this());
  websocket::stream_base::timeout opt;
  opt.handshake_timeout = milliseconds{ctx_->handshake_timeout_ms};
  // The heartbeat is ours (see on_heartbeat): Beast's idle timer counts
  // only what arrives, so its pings would wait behind a deep backlog while
  // the peer is busy reading it.
  opt.idle_timeout = websocket::stream_base::none();
  opt.keep_alive_pings = false;
  ws_.set_option(opt);
  ws_.set_option(websocket::stream_base::decorator(
      [proto = std::move(info.subprotocol)](websocket::response_type& res) {
        res.set(beast::http::field::server, "actorexec/" ACTOREXEC_VERSION);
        // The `bearer.<token>` subprotocol that authenticated a browser:
        // RFC 6455 clients fail the handshake unless it is echoed.
        if (!proto.empty())
          res.set(beast::http::field::sec_websocket_protocol, proto);
      }));
  ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
    last_heard_ = steady_clock::now();
    if (kind == websocket::frame_type::ping)
      return on_peer_ping();
    if (kind != websocket::frame_type::close)
      return;
    // Beast echoes a peer's close code above 4999 (it accepts them); RFC
    // 6455 defines none there, so such a Close is a protocol error: 1002.
    if (ws_.reason().code > 4999)
      ws_.next_layer().replace_close_code(1002);
    on_peer_close();
  });
  ws_.read_message_max(ctx_->max_message_bytes);
  // Text frames bypass Beast (see coalescing_stream), which therefore
  // must never negotiate permessage-deflate: Beast's default leaves it off.
  ws_.async_accept(
      req, [self = shared_from_this()](auto ec) { self->on_accept(ec); });
}

void websocket_session::on_accept(boost::system::error_code ec) {
  if (ec)
    return fail(ec, "accept");
  auto out =
      std::make_shared<socket_outbox>(weak_from_this(), ws_.get_executor());
  if (mcp_)
    conn_ = ctx_->system->spawn(mcp_connection_actor, id_, std::move(out),
                                ctx_->supervisor, ctx_->cfg, ctx_->stats);
  else
    conn_ = ctx_->system->spawn(connection_actor, id_, std::move(out),
                                ctx_->supervisor, ctx_->cfg, ctx_->stats);
  last_heard_ = last_progress_ = steady_clock::now();
  arm_heartbeat();
  arm_json_ping();
  do_read();
}

void websocket_session::on_peer_close() {
  if (closing_ || peer_closing_ || gone_)
    return; // the answer to our own Close
  peer_closing_ = true;
  auto code = ws_.reason().code;
  ctx_->stats->count_close(code);
  log::debug("ws_peer_close", {{"connection_id", id_}, {"code", code}});
  ws_.next_layer().discard_unsent();
  peer_gone(true, code);
  close_guard_.expires_after(peer_close_timeout);
  close_guard_.async_wait([weak = weak_from_this()](auto ec) {
    auto self = weak.lock();
    if (!self || ec)
      return;
    log::debug("ws_close_cut", {{"connection_id", self->id_}});
    self->abort_socket();
  });
}

void websocket_session::abort_socket() {
  // A linger of zero makes close() send a reset and drop what the kernel
  // still queues: a plain close would leave the connection open, its FIN
  // behind data the peer never reads, for as long as TCP retries.
  boost::system::error_code ignored;
  auto& socket = beast::get_lowest_layer(ws_).socket();
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

void websocket_session::do_read() {
  ws_.async_read(buffer_, [self = shared_from_this()](auto ec, auto n) {
    self->on_read(ec, n);
  });
}

void websocket_session::on_read(boost::system::error_code ec, std::size_t) {
  last_heard_ = steady_clock::now();
  // Closes we began, or the peer's Close, were counted when they started.
  bool counted = closing_ || peer_closing_;
  if (ec == websocket::error::closed) {
    log::debug("ws_closed",
               {{"connection_id", id_}, {"code", ws_.reason().code}});
    if (peer_closing_)
      close_guard_.cancel();
    if (!counted)
      ctx_->stats->count_close(ws_.reason().code);
    return peer_gone(true, ws_.reason().code);
  }
  if (ec) {
    if (is_protocol_violation(ec)) {
      log::info("ws_protocol_error",
                {{"connection_id", id_}, {"error", ec.message()}});
      if (!counted)
        ctx_->stats->count_close(close_code_of(ec));
      return peer_gone(true, 1002);
    }
    if (!counted)
      ctx_->stats->count_close(1006);
    fail(ec, "read");
    // The peer is gone (reset, timeout): let go of the socket now, so no
    // pending write keeps it, and this session, alive.
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    return peer_gone(closing_, 1006);
  }
  if (!ws_.got_text()) {
    log::info("ws_binary_frame", {{"connection_id", id_}});
    buffer_.consume(buffer_.size());
    // No further read: the close operation reads the peer's answer itself,
    // and a read racing it could deadlock both (see close_guard_).
    return start_close(close_unsupported, "binary frames are not supported");
  }
  if (!closing_)
    deliver(beast::buffers_to_string(buffer_.data()));
  buffer_.consume(buffer_.size());
  if (inbound_pending_ >= ctx_->inbound_window_bytes)
    return pause_reading();
  do_read();
}

void websocket_session::pause_reading() {
  // The actor is behind (or holds frames back for a client that does not
  // read its replies): the rest waits in the TCP buffers.
  read_paused_ = true;
  paused_hold_ = shared_from_this();
  log::debug("ws_read_paused",
             {{"connection_id", id_}, {"pending", inbound_pending_}});
}

void websocket_session::release_hold() {
  if (paused_hold_)
    asio::post(ws_.get_executor(), [hold = std::move(paused_hold_)] {});
}

void websocket_session::deliver(std::string text) {
  inbound_pending_ += inbound_charge(text.size());
  caf::anon_send(conn_, frame_in_atom::value, std::move(text));
}

void websocket_session::on_consumed(std::uint64_t charge) {
  inbound_pending_ -= std::min(inbound_pending_, charge);
  if (!read_paused_ || inbound_pending_ >= ctx_->inbound_window_bytes)
    return;
  read_paused_ = false;
  // A close in progress reads the peer's answer itself.
  if (!closing_ && !gone_)
    do_read();
  release_hold();
}

void websocket_session::enqueue(frame_batch&& frames) {
  if (closing_ || close_pending_)
    return;
  ws_.next_layer().send_text(std::move(frames));
}

void websocket_session::on_written(boost::system::error_code ec,
                                   std::uint64_t frame_bytes) {
  if (ec) {
    fail(ec, "write");
    // Reads may still be pending on a socket that can no longer write.
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    return;
  }
  if (frame_bytes > 0 && conn_)
    caf::anon_send(conn_, written_atom::value, frame_bytes);
}

void websocket_session::start_close(std::uint16_t code, std::string reason) {
  if (closing_ || close_pending_)
    return;
  websocket::close_reason cr;
  cr.code = code;
  cr.reason = reason;
  close_pending_ = cr;
  // The Close frame goes into the stream's batch behind every queued frame.
  do_close();
}

void websocket_session::do_close() {
  if (closing_)
    return;
  closing_ = true;
  ctx_->stats->count_close(close_pending_->code);
  log::info("ws_close_sent",
            {{"connection_id", id_}, {"code", close_pending_->code}});
  auto code = close_pending_->code;
  ws_.async_close(*close_pending_, [self = shared_from_this(), code](auto ec) {
    self->close_guard_.cancel();
    if (ec)
      self->fail(ec, "close");
    self->peer_gone(true, code);
  });
  close_guard_.expires_after(milliseconds{ctx_->handshake_timeout_ms});
  close_guard_.async_wait([self = shared_from_this(), code](auto ec) {
    if (ec)
      return; // the close completed
    log::warn("ws_close_stuck", {{"connection_id", self->id_}});
    boost::system::error_code ignored;
    beast::get_lowest_layer(self->ws_).socket().close(ignored);
    self->peer_gone(true, code);
  });
}

void websocket_session::peer_gone(bool clean, std::uint16_t code) {
  if (gone_ || !conn_)
    return;
  gone_ = true;
  caf::anon_send(conn_, peer_gone_atom::value, clean, code);
  release_hold();
}

void websocket_session::fail(boost::system::error_code ec, const char* what) {
  // Ordinary ends of a connection are not worth a warning.
  if (ec == asio::error::operation_aborted || ec == websocket::error::closed ||
      ec == asio::error::eof || ec == beast::error::timeout ||
      ec == asio::error::connection_reset)
    log::debug(
        "ws_end",
        {{"connection_id", id_}, {"what", what}, {"error", ec.message()}});
  else
    log::warn(
        "ws_error",
        {{"connection_id", id_}, {"what", what}, {"error", ec.message()}});
}

} // namespace actorexec::net
