#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include "actors/messages.hpp"

namespace actorexec::net {

/// The layer under Beast's websocket stream that owns the socket's write
/// side. Beast writes one message per operation (a composed op, a frame
/// header, a completion post), which for 100-byte output lines cost more
/// than the lines themselves. So the session's text frames bypass Beast:
/// `send_text` frames them here (unmasked, FIN, no extensions: the server
/// never negotiates permessage-deflate) into a batch that goes out in one
/// gathered write while the previous batch is on the wire. Beast still does
/// the handshake, reads, pings, pongs and the Close handshake; its writes
/// are copied into the same batch, so every byte keeps its order, and
/// complete at once unless its backlog is large (a client flooding pings
/// it never reads the pongs of must not grow the buffer: those wait).
///
/// Runs on the socket's strand only. Written frame bytes are reported
/// through `on_written`; a failed write reports its error once, then every
/// later write fails with it.
class coalescing_stream {
public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;
  using written_handler =
      std::function<void(boost::system::error_code, std::uint64_t)>;

  /// Frames smaller than this are copied into the batch; larger ones are
  /// referenced (a 64 KiB chunk frame is not worth a copy).
  static constexpr std::size_t copy_below = 8 * 1024;
  /// Beast's own writes complete at once while the unsent batch is smaller.
  static constexpr std::size_t max_control_backlog = 64 * 1024;

  explicit coalescing_stream(boost::asio::ip::tcp::socket&& socket);

  executor_type get_executor() noexcept { return next_.get_executor(); }

  next_layer_type& next_layer() noexcept { return next_; }

  /// Sets who hears of written frame bytes. `owner` is kept alive while a
  /// write is on the wire (the stream lives inside it).
  void on_written(written_handler handler, std::weak_ptr<void> owner);

  /// Queues text frames, taking their buffer. Returns false, dropping them,
  /// once a Close frame was queued (nothing may follow it) or a write failed.
  bool send_text(frame_batch&& frames);

  /// Bytes handed to the socket so far.
  std::uint64_t bytes_sent() const noexcept { return sent_; }

  /// The next Close frame written carries `code` instead of its own. Beast
  /// 1.81 accepts a peer's close code above 4999 and echoes it, although
  /// RFC 6455 defines none there; the answer must be 1002.
  void replace_close_code(std::uint16_t code) noexcept { close_code_ = code; }

  /// Bytes read from the socket before this stream existed (after the
  /// HTTP upgrade request, in the same packet): reads return them first.
  void prepend_input(std::string bytes) { early_ += std::move(bytes); }

  /// Drops the queued frames that are not on the wire yet, and every text
  /// frame queued after: the peer sent its Close, so it reads no more
  /// data, and our Close must not wait behind output nobody wants.
  void discard_unsent();

  template <class Buffers, class Handler>
  auto async_read_some(const Buffers& buffers, Handler&& handler) {
    if (early_.empty())
      return next_.async_read_some(buffers, std::forward<Handler>(handler));
    using signature = void(boost::system::error_code, std::size_t);
    return boost::asio::async_initiate<Handler, signature>(
        [this](auto h, const Buffers& b) {
          auto n = boost::asio::buffer_copy(
              b, boost::asio::buffer(early_.data(), early_.size()));
          early_.erase(0, n);
          complete(std::move(h), {}, n);
        },
        handler, buffers);
  }

  /// Beast's writes: the handshake response and control frames.
  template <class Buffers, class Handler>
  auto async_write_some(const Buffers& buffers, Handler&& handler) {
    using signature = void(boost::system::error_code, std::size_t);
    return boost::asio::async_initiate<Handler, signature>(
        [this](auto h, const Buffers& b) {
          auto n = boost::asio::buffer_size(b);
          if (error_)
            return complete(std::move(h), error_, n);
          auto at = next_batch_.bytes.size();
          for (auto piece : boost::beast::buffers_range_ref(b))
            next_batch_.bytes.append(static_cast<const char*>(piece.data()),
                                     piece.size());
          note_control_frame(at, n);
          if (backlogged())
            waiting_.emplace_back([this, h = std::move(h), n](auto ec) mutable {
              complete(std::move(h), ec, n);
            });
          else
            complete(std::move(h), {}, n);
          kick();
        },
        handler, buffers);
  }

  /// Sends everything queued, then tears the connection down: a Close frame
  /// still in the batch must reach the peer first.
  template <class Handler>
  friend void async_teardown(boost::beast::role_type role, coalescing_stream& s,
                             Handler&& handler) {
    s.teardown_.emplace([&s, role, h = std::forward<Handler>(handler)](
                            boost::system::error_code ec) mutable {
      if (ec)
        return s.complete(std::move(h), ec);
      using boost::beast::websocket::async_teardown;
      async_teardown(role, s.next_, std::move(h));
    });
    s.kick();
  }

  /// The blocking teardown (Beast instantiates it; the server never calls
  /// it): what is not on the wire yet is dropped.
  friend void teardown(boost::beast::role_type role, coalescing_stream& s,
                       boost::system::error_code& ec) {
    using boost::beast::websocket::teardown;
    teardown(role, s.next_, ec);
  }

private:
  /// A move-only step for later (Beast's handlers cannot be copied into a
  /// std::function): a Beast write waiting for the backlog, or the teardown
  /// waiting for the last batch.
  class deferred {
  public:
    template <class F>
    deferred(F f) : impl_(std::make_unique<model<F>>(std::move(f))) {}
    void operator()(boost::system::error_code ec) { impl_->call(ec); }

  private:
    struct base {
      virtual ~base() = default;
      virtual void call(boost::system::error_code ec) = 0;
    };
    template <class F>
    struct model : base {
      explicit model(F fn) : f(std::move(fn)) {}
      void call(boost::system::error_code ec) override { f(ec); }
      F f;
    };
    std::unique_ptr<base> impl_;
  };

  /// Completes a Beast operation through its own executor, never inline:
  /// Beast's initiating function must return first.
  template <class Handler, class... Args>
  void complete(Handler h, boost::system::error_code ec, Args... args) {
    auto ex = boost::asio::get_associated_executor(h, get_executor());
    boost::asio::post(ex, boost::beast::bind_front_handler(
                              std::move(h), ec, (ec ? Args{} : args)...));
  }

  /// Bytes for one gathered write: copied bytes, with large frames
  /// referenced at their positions.
  struct batch {
    std::string bytes;
    /// A large frame written from where it lies: at `at` in `bytes`, it
    /// is `data` (held by `owner`).
    struct ref {
      std::size_t at;
      std::shared_ptr<const std::string> owner;
      std::string_view data;
    };
    std::vector<ref> refs;
    std::uint64_t frame_bytes = 0;
    std::size_t ref_bytes = 0;
    std::size_t size() const { return bytes.size() + ref_bytes; }
    bool empty() const { return bytes.empty() && refs.empty(); }
    void clear();
  };

  /// A Beast write starting at `at` in the batch: a Close frame gets its
  /// code replaced if asked, and ends the data frames.
  void note_control_frame(std::size_t at, std::size_t n);
  /// Beast's writes wait for the batch on the wire to finish.
  bool backlogged() const noexcept {
    return writing_ && next_batch_.size() > max_control_backlog;
  }
  /// Starts a write of the queued batch when none is on the wire.
  void kick();
  void on_sent(boost::system::error_code ec);
  /// Nothing left to write: a waiting teardown may go on.
  void finish_teardown();

  next_layer_type next_;
  batch next_batch_;
  batch sending_;
  std::vector<boost::asio::const_buffer> iov_;
  bool writing_ = false;
  std::uint64_t sent_ = 0;
  /// A Close frame is queued: data frames after it are dropped.
  bool closed_ = false;
  boost::system::error_code error_;
  std::uint16_t close_code_ = 0;
  /// Beast writes waiting for the backlog to shrink.
  std::deque<deferred> waiting_;
  /// See prepend_input.
  std::string early_;
  std::optional<deferred> teardown_;
  written_handler written_;
  std::weak_ptr<void> owner_;
};

} // namespace actorexec::net
