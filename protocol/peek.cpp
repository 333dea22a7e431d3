#include "protocol/peek.hpp"

#include <cstdint>
#include <limits>

#include <boost/json/basic_parser_impl.hpp>

namespace actorexec::protocol {

namespace {

namespace json = boost::json;
using error_code = boost::system::error_code;

/// SAX handler that tracks nesting and keeps the top-level `id` and
/// `method`; everything else is only validated.
class envelope_handler {
public:
  static constexpr std::size_t max_object_size =
      std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_array_size = max_object_size;
  static constexpr std::size_t max_key_size = max_object_size;
  static constexpr std::size_t max_string_size = max_object_size;

  envelope result;

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return open(true); }
  bool on_object_end(std::size_t, error_code&) { return close(); }
  bool on_array_begin(error_code&) { return open(false); }
  bool on_array_end(std::size_t, error_code&) { return close(); }
  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    if (depth_ == 1)
      key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code&) {
    if (depth_ == 1) {
      key_.append(s.data(), s.size());
      member_ = key_ == "id"       ? member::id
                : key_ == "method" ? member::method
                                   : member::other;
      key_.clear();
    }
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, error_code&) {
    if (at_member())
      text_.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code&) {
    if (at_member()) {
      text_.append(s.data(), s.size());
      if (member_ == member::id)
        result.id = json::value(json::string_view{text_.data(), text_.size()});
      else
        result.method = text_;
      text_.clear();
    }
    return value_done();
  }
  bool on_number_part(json::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, error_code&) {
    if (at_member() && member_ == member::id)
      result.id = json::value(i);
    return value_done();
  }
  bool on_uint64(std::uint64_t u, json::string_view, error_code&) {
    if (at_member() && member_ == member::id)
      result.id = json::value(u);
    return value_done();
  }
  bool on_double(double, json::string_view, error_code&) {
    return value_done();
  }
  bool on_bool(bool, error_code&) { return value_done(); }
  bool on_null(error_code&) { return value_done(); }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }

private:
  enum class member { other, id, method };

  /// A scalar value directly under the top-level object, named id or
  /// method.
  bool at_member() const { return depth_ == 1 && member_ != member::other; }

  bool open(bool object) {
    if (depth_ == 0)
      result.is_object = object;
    else if (depth_ == 1)
      member_ = member::other; // a nested value is neither id nor method
    ++depth_;
    return true;
  }

  bool close() {
    --depth_;
    return true;
  }

  bool value_done() {
    if (depth_ == 1)
      member_ = member::other;
    return true;
  }

  std::size_t depth_ = 0;
  member member_ = member::other;
  std::string key_;
  std::string text_;
};

} // namespace

envelope peek(std::string_view text) {
  json::basic_parser<envelope_handler> parser{json::parse_options{}};
  boost::system::error_code ec;
  auto n = parser.write_some(false, text.data(), text.size(), ec);
  auto& h = parser.handler();
  if (ec || n != text.size()) {
    envelope invalid;
    return invalid;
  }
  h.result.valid = true;
  return std::move(h.result);
}

} // namespace actorexec::protocol
