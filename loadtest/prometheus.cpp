#include "loadtest/prometheus.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <optional>

namespace actorexec::loadtest {

namespace {

/// One sample line, split: `name{labels} value [timestamp]`.
struct sample_line {
  std::string_view name;
  bool has_labels = false;
  std::string_view value;
};

bool is_name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == ':' || (!first && c >= '0' && c <= '9');
}

std::string_view skip_blanks(std::string_view s) {
  auto i = s.find_first_not_of(" \t");
  return i == std::string_view::npos ? std::string_view{} : s.substr(i);
}

/// Length of `{...}` at the start of `s`, quotes and escapes respected;
/// nothing when the braces never close.
std::optional<std::size_t> label_block_size(std::string_view s) {
  bool quoted = false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (quoted && s[i] == '\\')
      ++i;
    else if (s[i] == '"')
      quoted = !quoted;
    else if (!quoted && s[i] == '}')
      return i + 1;
  }
  return std::nullopt;
}

/// Splits one sample line; an empty string on success, else what is wrong.
std::string split_line(std::string_view line, sample_line& out) {
  std::size_t n = 0;
  while (n < line.size() && is_name_char(line[n], n == 0))
    ++n;
  if (n == 0)
    return "expected a metric name";
  out.name = line.substr(0, n);
  auto rest = line.substr(n);
  if (!rest.empty() && rest[0] == '{') {
    auto size = label_block_size(rest);
    if (!size)
      return "unclosed label braces";
    out.has_labels = true;
    rest = rest.substr(*size);
  }
  if (rest.empty() || (rest[0] != ' ' && rest[0] != '\t'))
    return "expected a blank and a value after the name";
  rest = skip_blanks(rest);
  out.value = rest.substr(0, rest.find_first_of(" \t"));
  if (out.value.empty())
    return "missing value";
  return {};
}

/// A finite, non-negative number: what all three metrics must be.
std::optional<double> to_amount(std::string_view text) {
  double v = 0;
  auto end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || ptr != end || !std::isfinite(v) || v < 0)
    return std::nullopt;
  return v;
}

/// The metrics read, in the order of `wanted`.
constexpr std::array<std::string_view, 3> wanted{
    "process_resident_memory_bytes", "process_open_fds",
    "process_cpu_seconds_total"};

} // namespace

bool parse_process_metrics(std::string_view text, server_sample& out,
                           std::string& error) {
  std::array<std::optional<double>, wanted.size()> found;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{}
                                         : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    line = skip_blanks(line);
    if (line.empty() || line[0] == '#')
      continue;
    sample_line s;
    auto problem = split_line(line, s);
    auto where = "line " + std::to_string(line_no) + ": ";
    if (!problem.empty()) {
      error = where + problem;
      return false;
    }
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      // actorexec exports one unlabelled sample per process metric; a
      // labelled one would be some other exporter's, so it is not ours.
      if (s.name != wanted[i] || s.has_labels)
        continue;
      found[i] = to_amount(s.value);
      if (!found[i]) {
        error = where + std::string{wanted[i]} + ": not a non-negative " +
                "number: \"" + std::string{s.value} + "\"";
        return false;
      }
    }
  }
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (!found[i]) {
      error = std::string{wanted[i]} +
              " not exposed (a server without /proc leaves process_* out)";
      return false;
    }
  }
  out.rss_kb = static_cast<std::uint64_t>(*found[0] / 1024);
  out.fds = static_cast<std::uint64_t>(*found[1]);
  out.cpu_s = *found[2];
  return true;
}

} // namespace actorexec::loadtest
