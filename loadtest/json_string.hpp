#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace actorexec::loadtest {

/// Where a JSON string's content lies in a text: [begin, end), quotes
/// excluded.
struct string_span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

/// Finds the string value of `params.data` in the root object of `text` by a
/// pass that follows only strings and nesting (it validates nothing else).
/// With repeated keys the last one counts, as in the parser. Empty when there
/// is none, when the last `data` of `params` is not a string, or when any key
/// holds an escape (the parser would compare its decoded text).
std::optional<string_span> find_params_data(std::string_view text);

/// Appends the decoded content of a JSON string (the text between its
/// quotes) to `out`. Returns false, with `out` unspecified, on anything a
/// strict parser could reject: a control character, an unknown escape, a
/// `\u` escape that is not 4 hex digits, a surrogate escape without its
/// pair, invalid UTF-8.
bool unescape_json_string(std::string_view content, std::string& out);

} // namespace actorexec::loadtest
