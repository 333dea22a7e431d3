// A websocket_session's liveness: heartbeat pings, the dead-peer check
// (which counts a client still draining our output as alive), JSON pings
// for the seed protocol, and the peer's ping budget.

#include "net/websocket_session.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <chrono>

#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>

#include <caf/send.hpp>

#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "net/close_codes.hpp"

namespace actorexec::net {

namespace beast = boost::beast;
namespace asio = boost::asio;
using namespace std::chrono;

void websocket_session::arm_json_ping() {
  auto ms = ctx_->cfg->json_ping_interval_ms;
  if (ms == 0 || mcp_) // MCP has its own `ping`
    return;
  json_ping_.expires_after(milliseconds{ms});
  json_ping_.async_wait([weak = weak_from_this()](auto ec) {
    auto self = weak.lock();
    if (!self || ec || self->gone_)
      return;
    caf::anon_send(self->conn_, timer_atom::value, timer_kind::ping,
                   std::uint64_t{0});
    self->arm_json_ping();
  });
}

void websocket_session::on_peer_ping() {
  if (ping_budget_.take(steady_clock::now()) == 0 || ping_flood_)
    return;
  ping_flood_ = true;
  log::warn("ping_flood", {{"connection_id", id_}});
  // Not from inside Beast's read operation: after it.
  asio::post(ws_.get_executor(), [self = shared_from_this()] {
    self->start_close(close_policy, "ping rate limit exceeded");
  });
}

void websocket_session::arm_heartbeat() {
  auto& cfg = *ctx_->cfg;
  // Checked twice per interval: a ping goes out at most half an interval
  // late, a dead peer is found at most half an interval late.
  auto tick = milliseconds{std::max<std::uint64_t>(
      1, std::min(cfg.heartbeat_interval_ms, cfg.heartbeat_timeout_ms) / 2)};
  heartbeat_.expires_after(tick);
  heartbeat_.async_wait([weak = weak_from_this()](auto ec) {
    if (auto self = weak.lock(); self && !ec)
      self->on_heartbeat();
  });
}

void websocket_session::note_drain_progress(steady_clock::time_point now) {
  // Our ping waits behind everything queued before it, in our batch and in
  // both kernels' buffers: a client busy reading a deep backlog has not
  // seen it yet, and is not dead. Its TCP acknowledging a good amount of
  // our output shows that. Small frames (pings, JSON pings) do not count:
  // the kernel of a hung client acknowledges those for a long time.
  constexpr std::uint64_t progress_bytes = 64 * 1024;
  // Acknowledged = handed to the kernel less what it still queues.
  int queued = 0;
  auto fd = beast::get_lowest_layer(ws_).socket().native_handle();
  if (::ioctl(fd, SIOCOUTQ, &queued) != 0 || queued < 0)
    return;
  auto sent = ws_.next_layer().bytes_sent();
  auto acked = sent - std::min<std::uint64_t>(sent, queued);
  if (acked >= acked_mark_ + progress_bytes) {
    acked_mark_ = acked;
    last_progress_ = now;
  }
}

void websocket_session::on_heartbeat() {
  if (gone_)
    return;
  auto& cfg = *ctx_->cfg;
  auto now = steady_clock::now();
  note_drain_progress(now);
  auto alive_at = std::max(last_heard_, last_progress_);
  if (now - alive_at >= milliseconds{cfg.heartbeat_timeout_ms}) {
    ++ctx_->stats->heartbeat_timeouts_total;
    log::info("heartbeat_timeout",
              {{"connection_id", id_},
               {"bytes_sent", ws_.next_layer().bytes_sent()},
               {"bytes_acked", acked_mark_}});
    // The pending read fails and reports the peer gone (1006); with reads
    // paused there is none, so report it here.
    abort_socket();
    if (read_paused_) {
      ctx_->stats->count_close(1006);
      peer_gone(false, 1006);
    }
    return;
  }
  auto interval = milliseconds{cfg.heartbeat_interval_ms};
  if (!closing_ && !pinging_ && now - last_heard_ >= interval &&
      now - last_ping_ >= interval) {
    pinging_ = true;
    last_ping_ = now;
    ws_.async_ping(
        {}, [self = shared_from_this()](auto) { self->pinging_ = false; });
  }
  arm_heartbeat();
}

} // namespace actorexec::net
