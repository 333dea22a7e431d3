#include "net/coalescing_stream.hpp"

#include <boost/asio/write.hpp>

namespace actorexec::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

/// FIN and the Close opcode: the first byte of a Close frame.
constexpr unsigned char close_frame = 0x88;
/// FIN and the text opcode.
constexpr unsigned char text_frame = 0x81;

/// The longest header of a text frame (64-bit length).
constexpr std::size_t max_header_bytes = 10;

/// Appends the header of an unmasked, final text frame of `n` bytes
/// (RFC 6455 section 5.2: 7-bit, 16-bit or 64-bit length).
void append_header(std::string& out, std::size_t n) {
  char h[10];
  std::size_t len = 2;
  h[0] = static_cast<char>(text_frame);
  if (n < 126) {
    h[1] = static_cast<char>(n);
  } else if (n <= 0xffff) {
    h[1] = 126;
    h[2] = static_cast<char>(n >> 8);
    h[3] = static_cast<char>(n & 0xff);
    len = 4;
  } else {
    h[1] = 127;
    for (int i = 0; i < 8; ++i)
      h[2 + i] = static_cast<char>(
          (static_cast<std::uint64_t>(n) >> (8 * (7 - i))) & 0xff);
    len = 10;
  }
  out.append(h, len);
}

} // namespace

void coalescing_stream::batch::clear() {
  bytes.clear();
  refs.clear();
  frame_bytes = 0;
  ref_bytes = 0;
}

coalescing_stream::coalescing_stream(asio::ip::tcp::socket&& socket)
    : next_(std::move(socket)) {}

void coalescing_stream::on_written(written_handler handler,
                                   std::weak_ptr<void> owner) {
  written_ = std::move(handler);
  owner_ = std::move(owner);
}

bool coalescing_stream::send_text(frame_batch&& frames) {
  if (closed_ || error_)
    return false;
  auto& b = next_batch_;
  // Room for the whole list at once: grown frame by frame, the buffer would
  // end up to twice the size of what it holds.
  auto room = b.bytes.size();
  bool referenced = false;
  for (auto size : frames.sizes) {
    room += max_header_bytes + (size < copy_below ? size : 0);
    referenced |= size >= copy_below;
  }
  b.bytes.reserve(room);
  // Large frames are written from the batch's own buffer, which must then
  // outlive the write; small ones are copied, and it dies here.
  std::shared_ptr<const std::string> owned;
  if (referenced)
    owned = std::make_shared<const std::string>(std::move(frames.text));
  std::string_view text = owned ? *owned : frames.text;
  for (auto size : frames.sizes) {
    auto f = text.substr(0, size);
    text.remove_prefix(size);
    append_header(b.bytes, size);
    if (size < copy_below) {
      b.bytes += f;
    } else {
      b.refs.push_back({b.bytes.size(), owned, f});
      b.ref_bytes += size;
    }
    b.frame_bytes += size;
  }
  kick();
  return true;
}

void coalescing_stream::discard_unsent() {
  closed_ = true;
  next_batch_.clear();
}

void coalescing_stream::note_control_frame(std::size_t at, std::size_t n) {
  auto& bytes = next_batch_.bytes;
  if (n < 4 || static_cast<unsigned char>(bytes[at]) != close_frame)
    return;
  closed_ = true;
  if (close_code_ != 0) {
    // A server's Close frame: 2 header bytes (unmasked, at most 125
    // payload bytes), then the code.
    bytes[at + 2] = static_cast<char>(close_code_ >> 8);
    bytes[at + 3] = static_cast<char>(close_code_ & 0xff);
    close_code_ = 0;
  }
}

void coalescing_stream::kick() {
  if (writing_)
    return;
  if (next_batch_.empty())
    return finish_teardown();
  std::swap(sending_, next_batch_);
  next_batch_.clear();
  iov_.clear();
  std::size_t pos = 0;
  const char* base = sending_.bytes.data();
  for (auto& r : sending_.refs) {
    if (r.at > pos)
      iov_.emplace_back(base + pos, r.at - pos);
    iov_.emplace_back(r.data.data(), r.data.size());
    pos = r.at;
  }
  if (sending_.bytes.size() > pos)
    iov_.emplace_back(base + pos, sending_.bytes.size() - pos);
  writing_ = true;
  asio::async_write(next_, iov_,
                    [this, keep = owner_.lock()](error_code ec, std::size_t n) {
                      sent_ += n;
                      on_sent(ec);
                    });
}

void coalescing_stream::on_sent(error_code ec) {
  writing_ = false;
  auto frame_bytes = sending_.frame_bytes;
  sending_.clear();
  // The buffer goes with its batch: hundreds of sessions waiting on slow
  // clients would each pin one (the next batch sizes its own).
  std::string{}.swap(sending_.bytes);
  if (ec && !error_) {
    error_ = ec;
    next_batch_.clear();
  }
  // Beast writes that waited for the backlog complete now (with the error,
  // if any): what they wrote is in the batch that goes next.
  while (!waiting_.empty()) {
    auto next = std::move(waiting_.front());
    waiting_.pop_front();
    next(error_);
  }
  if (written_)
    written_(ec, ec ? 0 : frame_bytes);
  kick();
}

void coalescing_stream::finish_teardown() {
  if (!teardown_)
    return;
  auto next = std::move(*teardown_);
  teardown_.reset();
  next(error_);
}

} // namespace actorexec::net
