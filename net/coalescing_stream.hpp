#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_cat.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace actorexec::net {

/// The layer under Beast's websocket stream that lets one socket write carry
/// many frames. Beast writes one message per call, i.e. one `sendmsg` per
/// 100-byte output line; while the websocket_session knows more frames are
/// queued it sets `hold`, and writes are then copied into a pending buffer
/// and complete at once. The next write without `hold` (or one that would
/// overflow the buffer) sends the pending bytes and its own in one gathered
/// write. Beast serialises every write it makes (ours, its pongs, pings and
/// Close frames) on its own write lock, so bytes keep their order.
class coalescing_stream {
public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  /// Most bytes held back before a write goes out regardless.
  static constexpr std::size_t max_pending = 64 * 1024;

  explicit coalescing_stream(boost::asio::ip::tcp::socket&& socket)
      : next_(std::move(socket)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }

  next_layer_type& next_layer() noexcept { return next_; }

  /// Says whether more writes follow at once (set before each message).
  void hold(bool more) noexcept { hold_ = more; }

  /// The next Close frame written carries `code` instead of its own. Beast
  /// 1.81 accepts a peer's close code above 4999 and echoes it, although
  /// RFC 6455 defines none there; the answer must be 1002.
  void replace_close_code(std::uint16_t code) noexcept { close_code_ = code; }

  template <class Buffers, class Handler>
  auto async_read_some(const Buffers& buffers, Handler&& handler) {
    return next_.async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <class Buffers, class Handler>
  auto async_write_some(const Buffers& buffers, Handler&& handler) {
    using signature = void(boost::system::error_code, std::size_t);
    return boost::asio::async_initiate<Handler, signature>(
        [this](auto h, const Buffers& b) { start_write(b, std::move(h)); },
        handler, buffers);
  }

  /// Sends what is pending, then tears the connection down: a Close frame
  /// Beast wrote while `hold` was set must still reach the peer.
  template <class Handler>
  friend void async_teardown(boost::beast::role_type role, coalescing_stream& s,
                             Handler&& handler) {
    auto pending = s.take_pending();
    if (!pending) {
      using boost::beast::websocket::async_teardown;
      return async_teardown(role, s.next_, std::forward<Handler>(handler));
    }
    auto ex = boost::asio::get_associated_executor(handler, s.get_executor());
    boost::asio::async_write(
        s.next_, boost::asio::buffer(*pending),
        boost::asio::bind_executor(
            ex, [&s, role, pending, h = std::forward<Handler>(handler)](
                    boost::system::error_code ec, std::size_t) mutable {
              if (ec)
                return h(ec);
              using boost::beast::websocket::async_teardown;
              async_teardown(role, s.next_, std::move(h));
            }));
  }

  friend void teardown(boost::beast::role_type role, coalescing_stream& s,
                       boost::system::error_code& ec) {
    if (auto pending = s.take_pending()) {
      boost::asio::write(s.next_, boost::asio::buffer(*pending), ec);
      if (ec)
        return;
    }
    using boost::beast::websocket::teardown;
    teardown(role, s.next_, ec);
  }

private:
  using buffer_ptr = std::shared_ptr<std::string>;

  template <class Buffers, class Handler>
  void start_write(const Buffers& buffers, Handler handler) {
    auto n = boost::asio::buffer_size(buffers);
    auto ex = boost::asio::get_associated_executor(handler, get_executor());
    if (close_code_ != 0 && n >= 4 && first_byte(buffers) == close_frame) {
      // A server's Close frame: 2 header bytes (unmasked, at most 125
      // payload bytes), then the code.
      auto at = pending_.size();
      append(buffers);
      pending_[at + 2] = static_cast<char>(close_code_ >> 8);
      pending_[at + 3] = static_cast<char>(close_code_ & 0xff);
      close_code_ = 0;
      auto all = take_pending();
      return write_all(all, boost::asio::buffer(*all), n, std::move(handler));
    }
    if (hold_ && pending_.size() + n <= max_pending) {
      append(buffers);
      boost::asio::post(
          ex, boost::beast::bind_front_handler(std::move(handler),
                                               boost::system::error_code{}, n));
      return;
    }
    auto pending = take_pending();
    if (!pending)
      return next_.async_write_some(buffers, std::move(handler));
    // The pending bytes and these in one write.
    write_all(pending,
              boost::beast::buffers_cat(boost::asio::buffer(*pending), buffers),
              n, std::move(handler));
  }

  /// Writes all of `buffers` (which include the bytes of `owned`) and tells
  /// the caller of its own `n` bytes only. The completion owns the buffer,
  /// never `this`: the stream may be gone when an aborted write completes.
  template <class Buffers, class Handler>
  void write_all(buffer_ptr owned, const Buffers& buffers, std::size_t n,
                 Handler handler) {
    auto ex = boost::asio::get_associated_executor(handler, get_executor());
    boost::asio::async_write(
        next_, buffers,
        boost::asio::bind_executor(
            ex, [owned, n, h = std::move(handler)](boost::system::error_code ec,
                                                   std::size_t) mutable {
              h(ec, ec ? 0 : n);
            }));
  }

  template <class Buffers>
  void append(const Buffers& buffers) {
    if (pending_.capacity() == 0)
      pending_.reserve(max_pending);
    for (auto b : boost::beast::buffers_range_ref(buffers))
      pending_.append(static_cast<const char*>(b.data()), b.size());
  }

  /// FIN and the Close opcode: the first byte of a Close frame.
  static constexpr unsigned char close_frame = 0x88;

  template <class Buffers>
  static unsigned char first_byte(const Buffers& buffers) {
    for (auto b : boost::beast::buffers_range_ref(buffers))
      if (b.size() > 0)
        return *static_cast<const unsigned char*>(b.data());
    return 0;
  }

  /// Moves the pending bytes out (null when there are none).
  buffer_ptr take_pending() {
    if (pending_.empty())
      return nullptr;
    auto out = std::make_shared<std::string>(std::move(pending_));
    pending_ = std::string{};
    return out;
  }

  next_layer_type next_;
  std::string pending_;
  bool hold_ = false;
  std::uint16_t close_code_ = 0;
};

} // namespace actorexec::net
