#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace actorexec::protocol {

/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

/// Decodes standard base64; empty when `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace actorexec::protocol
