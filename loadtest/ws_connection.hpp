#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "loadtest/event_loop.hpp"
#include "loadtest/scenario.hpp"

namespace actorexec::loadtest {

/// Where the runner's connections go, and what their upgrade carries.
struct ws_target {
  ws_url url;
  /// Sent as `Authorization: Bearer` with the upgrade; none when empty.
  std::string token;
};

/// Throws scenario_error when the runner cannot connect to `url` (its host
/// is neither an IP address nor `localhost`): a phase checks it up front.
void check_ws_target(const ws_url& url);

/// How long a close handshake may take once our Close is written.
constexpr std::chrono::milliseconds ws_close_timeout{5000};

/// How a connection ended; its handler learns it once, as the last call.
struct ws_end {
  enum class kind {
    /// The TCP connect failed or timed out.
    connect_failed,
    /// The HTTP upgrade failed or was refused; `why` says how, plainly.
    upgrade_failed,
    /// Our close handshake ended: cleanly when `why` is empty.
    closed,
    /// The server sent its Close first (status `code`, 0 for none); it was
    /// echoed.
    peer_closed,
    /// Reading failed (`why`) before any Close.
    lost,
    /// Writing failed (`why`) before our Close.
    write_failed,
  };
  kind what = kind::lost;
  std::uint16_t code = 0;
  std::string why;
  /// The server reset the TCP connection (what it does to a client that
  /// sent its Close and no longer reads).
  bool reset = false;
};

/// One WebSocket of the runner. Beast does the HTTP upgrade; after it the
/// runner speaks WebSocket itself: the socket is read in 16 KiB chunks that
/// ws_reader cuts frames out of in place (a composed Beast read per message
/// cost as much CPU as everything else the runner does with a frame), pings
/// are answered, and frames are written one buffer at a time from a queue.
class ws_connection {
public:
  /// The owner of a connection (a session). Called on the event loop, never
  /// after on_end, reset() or discard().
  class handler {
  public:
    /// The upgrade succeeded.
    virtual void on_open() = 0;
    /// One whole text or binary message. Returning false stops reading
    /// until resume_reading(): the rest waits in the kernel, as it would
    /// for a slow reader.
    virtual bool on_message(std::string_view payload) = 0;
    /// A pong arrived.
    virtual void on_pong() {}
    /// Every queued frame is written.
    virtual void on_drained() {}
    /// The connection is over.
    virtual void on_end(const ws_end& end) = 0;

  protected:
    ~handler() = default;
  };

  virtual ~ws_connection() = default;

  /// Queues a frame; frames queued before the upgrade wait for it.
  virtual void send_text(std::string_view payload) = 0;
  virtual void send_ping(std::string_view payload) = 0;
  /// Starts the close handshake (status 1000) once the queue is written;
  /// data frames read after it are discarded, and it must end within
  /// `timeout` of our Close being queued.
  virtual void close(std::chrono::milliseconds timeout) = 0;
  /// Ends the TCP connection with a reset and no Close frame: to the server,
  /// a lost connection. No callback follows.
  virtual void reset() = 0;
  /// Closes the socket at once. No callback follows.
  virtual void discard() = 0;
  /// Reads nothing more, not even the server's Close, until
  /// resume_reading().
  virtual void hold_reading() = 0;
  /// Reads again, after hold_reading() or a false from on_message.
  virtual void resume_reading() = 0;
  /// Bytes queued and not yet written.
  virtual std::size_t queued_bytes() const = 0;
};

/// Connects to `target` and upgrades; `owner` hears how it went. Frames are
/// masked with keys from `mask_rng`. `owner` and `mask_rng` must outlive the
/// connection's callbacks: a handler stops them with reset() or discard().
std::shared_ptr<ws_connection>
open_ws_connection(event_loop& loop, const ws_target& target,
                   std::minstd_rand& mask_rng, ws_connection::handler& owner);

} // namespace actorexec::loadtest
