#pragma once

#include <string>
#include <string_view>

#include "protocol/messages.hpp"

namespace actorexec::protocol {

/// What a frame's envelope says, read without building a document: the
/// top-level `id` and `method` only. Used to refuse a frame over the rate
/// limit (answering with its id) before paying for a full parse, which for
/// a frame of nested arrays costs many times its size in memory.
struct envelope {
  /// The text is one well-formed JSON value.
  bool valid = false;
  /// That value is an object.
  bool is_object = false;
  /// The top-level `id` when it is a string or an integer (the only ids
  /// the decoder accepts), else absent.
  request_id id;
  /// The top-level `method` when it is a string, else empty.
  std::string method;
};

/// Scans `text` once, allocating nothing but the id and method strings.
envelope peek(std::string_view text);

} // namespace actorexec::protocol
