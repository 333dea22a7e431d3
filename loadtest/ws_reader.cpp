#include "loadtest/ws_reader.hpp"

#include <algorithm>
#include <cstring>

namespace actorexec::loadtest {

namespace {

std::uint64_t big_endian(const char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

bool is_control(std::uint8_t op) {
  return op >= 0x8;
}

ws_reader::event make_event(ws_reader::kind what, std::string_view payload,
                            std::uint16_t close_code = 0) {
  ws_reader::event ev;
  ev.what = what;
  ev.payload = payload;
  ev.close_code = close_code;
  return ev;
}

} // namespace

void append_ws_frame(std::string& out, ws_opcode op, std::string_view payload,
                     std::uint32_t key) {
  out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(op)));
  auto len = static_cast<std::uint64_t>(payload.size());
  int len_bytes = 0;
  if (len < 126) {
    out.push_back(static_cast<char>(0x80 | len));
  } else if (len <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    len_bytes = 2;
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    len_bytes = 8;
  }
  for (int i = len_bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  char mask[4];
  for (int i = 0; i < 4; ++i)
    mask[i] = static_cast<char>((key >> (8 * (3 - i))) & 0xFF);
  out.append(mask, 4);
  auto at = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out[at + i] ^= mask[i % 4];
}

char* ws_reader::prepare(std::size_t& n) {
  if (begin_ == end_)
    begin_ = end_ = 0;
  auto need = std::max(n, wanted_ > buffered() ? wanted_ - buffered() : 0);
  if (buf_.size() - end_ < need && begin_ > 0) {
    // Move the unread tail to the front rather than growing.
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - end_ < need)
    buf_.resize(end_ + need);
  // Exactly `need`, not all the room: what a slow reader takes out of the
  // kernel ahead of its handling stays bounded by the chunk size.
  n = need;
  return buf_.data() + end_;
}

void ws_reader::append(std::string_view bytes) {
  auto n = bytes.size();
  auto* p = prepare(n);
  std::memcpy(p, bytes.data(), bytes.size());
  commit(bytes.size());
}

ws_reader::event ws_reader::control(std::uint8_t op, std::string_view payload) {
  switch (static_cast<ws_opcode>(op)) {
  case ws_opcode::ping:
    return make_event(kind::ping, payload);
  case ws_opcode::pong:
    return make_event(kind::pong, payload);
  case ws_opcode::close: {
    if (payload.size() == 1)
      return fail("bad close frame size");
    std::uint16_t code = 0;
    if (payload.size() >= 2)
      code = static_cast<std::uint16_t>(big_endian(payload.data(), 2));
    return make_event(kind::close, payload, code);
  }
  default:
    return fail("bad opcode");
  }
}

ws_reader::event ws_reader::next() {
  for (;;) {
    if (failed_)
      return fail("stream already failed");
    auto avail = buffered();
    const char* p = buf_.data() + begin_;
    if (avail < 2) {
      wanted_ = 2;
      return {};
    }
    auto b0 = static_cast<std::uint8_t>(p[0]);
    auto b1 = static_cast<std::uint8_t>(p[1]);
    bool fin = (b0 & 0x80) != 0;
    std::uint8_t op = b0 & 0x0F;
    if ((b0 & 0x70) != 0)
      return fail("reserved bits set");
    if ((b1 & 0x80) != 0)
      return fail("masked frame from the server");
    std::size_t header = 2;
    std::uint64_t len = b1 & 0x7F;
    if (len >= 126) {
      header = len == 126 ? 4 : 10;
      if (avail < header) {
        wanted_ = header;
        return {};
      }
      len = big_endian(p + 2, static_cast<int>(header - 2));
      // The shortest form is mandatory (RFC 6455 section 5.2).
      if ((header == 4 && len < 126) || (header == 10 && len <= 0xFFFF))
        return fail("bad frame length");
    }
    if (is_control(op)) {
      if (!fin || len > 125)
        return fail("bad control frame");
    } else if (op > 0x2 || (op == 0) != in_fragments_) {
      return fail(op > 0x2 ? "bad opcode" : "bad continuation");
    }
    auto so_far = in_fragments_ ? partial_.size() : 0;
    if (!is_control(op) && len > max_message_ - so_far)
      return fail("message too big");
    if (avail - header < len) {
      wanted_ = header + static_cast<std::size_t>(len);
      return {};
    }
    wanted_ = 0;
    std::string_view payload{p + header, static_cast<std::size_t>(len)};
    begin_ += header + payload.size();
    if (is_control(op))
      return control(op, payload);
    if (fin && !in_fragments_)
      return make_event(kind::message, payload);
    if (!in_fragments_)
      partial_.clear();
    partial_.append(payload);
    in_fragments_ = !fin;
    if (fin)
      return make_event(kind::message, partial_);
  }
}

} // namespace actorexec::loadtest
