#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace actorexec::loadtest {

/// WebSocket opcodes (RFC 6455 section 5.2).
enum class ws_opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Appends one masked client frame carrying `payload` to `out`. Clients must
/// mask (RFC 6455 section 5.3); `key` is the masking key.
void append_ws_frame(std::string& out, ws_opcode op, std::string_view payload,
                     std::uint32_t key);

/// The client side of WebSocket reads without a composed operation per
/// message: the caller reads large chunks from the socket into `prepare()`,
/// and `next()` cuts every complete message and control frame out of them in
/// place. Reassembles fragmented messages (websocketd's library fragments
/// long ones); rejects what a client must (masked, reserved bits, bad
/// control frames) and messages over the size limit.
class ws_reader {
public:
  enum class kind {
    /// No complete frame buffered: read more.
    need_more,
    /// A whole text or binary message.
    message,
    ping,
    pong,
    /// A Close frame: `close_code` holds its status code (0 for none).
    close,
    /// A protocol violation: `error` says which; the connection is unusable.
    failed,
  };

  /// One result of `next()`: the payload stays valid until the next call
  /// of `next()` or `prepare()`.
  struct event {
    kind what = kind::need_more;
    std::string_view payload;
    std::uint16_t close_code = 0;
    std::string_view error;
  };

  explicit ws_reader(std::size_t max_message) : max_message_(max_message) {}

  /// Room for `n` more bytes, raised to what the buffered frame still
  /// lacks; commit what the socket wrote there.
  char* prepare(std::size_t& n);
  void commit(std::size_t n) { end_ += n; }

  /// Adds bytes already read elsewhere (those after the HTTP handshake).
  void append(std::string_view bytes);

  /// Cuts the next event out of the buffered bytes.
  event next();

  /// Bytes buffered but not yet returned.
  std::size_t buffered() const { return end_ - begin_; }

private:
  event fail(std::string_view why) {
    failed_ = true;
    event ev;
    ev.what = kind::failed;
    ev.error = why;
    return ev;
  }
  event control(std::uint8_t op, std::string_view payload);

  std::size_t max_message_;
  std::string buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  /// Bytes the frame at `begin_` needs in all, when more than are buffered.
  std::size_t wanted_ = 0;
  /// A fragmented message's payload so far.
  std::string partial_;
  bool in_fragments_ = false;
  bool failed_ = false;
};

} // namespace actorexec::loadtest
