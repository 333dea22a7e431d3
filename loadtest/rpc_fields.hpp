#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace actorexec::loadtest {

/// A string member: whether it was there, and its text when it was a string.
struct string_field {
  bool present = false;
  bool is_string = false;
  std::string text;

  void clear() {
    present = false;
    is_string = false;
    text.clear();
  }
};

/// The members of one server frame (a JSON-RPC notification or response)
/// that the runner looks at, and no others. Numbers follow
/// `json::value::to_number`: empty when absent, not a number, or out of
/// range. A repeated key keeps its last value, as the DOM does.
struct rpc_fields {
  string_field method;
  /// `params` was there; `params_object` when it was an object.
  bool params = false;
  bool params_object = false;
  std::optional<std::uint64_t> id;
  /// `error` was there (any type); `error_code` is its `code` member.
  bool error = false;
  std::optional<std::int64_t> error_code;
  /// `result` was an object; `result_last_seq` is its `last_seq` member.
  bool result_object = false;
  std::optional<std::uint64_t> result_last_seq;
  /// Members of `params`.
  std::optional<std::uint64_t> seq;
  std::optional<std::uint64_t> dropped_bytes;
  std::optional<std::uint64_t> dropped_frames;
  std::optional<std::int64_t> exit_code;
  string_field data;
  string_field type;
  string_field encoding;
  string_field session_id;
  string_field resume_token;

  /// Forgets everything, keeping the strings' capacity.
  void clear();
  /// Forgets the members of `params` only.
  void clear_params();
};

/// Extracts `rpc_fields` from frames with Boost.JSON's event parser instead
/// of a DOM: nothing is built for members the runner ignores, and the parser
/// and the strings are reused, so a frame costs no allocation. Validates
/// exactly as `json::parse` with default options does.
class rpc_scanner {
public:
  rpc_scanner();
  ~rpc_scanner();
  rpc_scanner(const rpc_scanner&) = delete;
  rpc_scanner& operator=(const rpc_scanner&) = delete;

  /// Fills `fields()` from `text`; false when `text` is not valid JSON or
  /// not an object (the fields are unspecified then).
  bool scan(std::string_view text);

  /// Frames from this size on have their `params.data` decoded by
  /// `unescape_json_string` rather than by the parser (same result, faster).
  static constexpr std::size_t fast_data_above = 1024;

  const rpc_fields& fields() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace actorexec::loadtest
