#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace actorexec::protocol {

/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

/// How many bytes the padded base64 `text` decodes to (without checking it).
std::size_t base64_decoded_size(std::string_view text);

/// Decodes standard base64; empty when `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace actorexec::protocol
