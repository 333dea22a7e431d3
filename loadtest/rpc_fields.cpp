#include "loadtest/rpc_fields.hpp"

#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>

#include "loadtest/json_string.hpp"
#include "loadtest/own_output.hpp"

namespace json = boost::json;
using error_code = boost::system::error_code;

namespace actorexec::loadtest {

void rpc_fields::clear() {
  method.clear();
  params = false;
  params_object = false;
  id.reset();
  error = false;
  error_code.reset();
  result_object = false;
  result_last_seq.reset();
  clear_params();
}

void rpc_fields::clear_params() {
  seq.reset();
  dropped_bytes.reset();
  dropped_frames.reset();
  exit_code.reset();
  data.clear();
  type.clear();
  encoding.clear();
  session_id.clear();
  resume_token.clear();
}

namespace {

/// Where the value being parsed goes.
enum class slot : std::uint8_t {
  none,
  method,
  params,
  id,
  error,
  result,
  error_code,
  result_last_seq,
  seq,
  dropped_bytes,
  dropped_frames,
  exit_code,
  data,
  type,
  encoding,
  session_id,
  resume_token,
};

/// The container being parsed.
enum class scope : std::uint8_t { top, params, error, result, other, array };

slot top_slot(std::string_view key) {
  if (key == "method")
    return slot::method;
  if (key == "params")
    return slot::params;
  if (key == "id")
    return slot::id;
  if (key == "error")
    return slot::error;
  if (key == "result")
    return slot::result;
  return slot::none;
}

slot params_slot(std::string_view key) {
  // Most frames are process.output: test its members first.
  if (key == "seq")
    return slot::seq;
  if (key == "data")
    return slot::data;
  if (key == "type")
    return slot::type;
  if (key == "encoding")
    return slot::encoding;
  if (key == "exit_code")
    return slot::exit_code;
  if (key == "dropped_bytes")
    return slot::dropped_bytes;
  if (key == "dropped_frames")
    return slot::dropped_frames;
  if (key == "session_id")
    return slot::session_id;
  if (key == "resume_token")
    return slot::resume_token;
  return slot::none;
}

slot slot_of(scope s, std::string_view key) {
  switch (s) {
  case scope::top:
    return top_slot(key);
  case scope::params:
    return params_slot(key);
  case scope::error:
    return key == "code" ? slot::error_code : slot::none;
  case scope::result:
    return key == "last_seq" ? slot::result_last_seq : slot::none;
  default:
    return slot::none;
  }
}

template <class T>
std::optional<T> number(const json::value& v) {
  error_code ec;
  auto n = v.to_number<T>(ec);
  if (ec)
    return std::nullopt;
  return n;
}

/// The event handler: keeps a stack of scopes and the slot of the current
/// key, and files each value that lands in a slot.
class handler {
public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  rpc_fields f;
  bool root_object = false;

  bool on_document_begin(error_code&) {
    f.clear();
    stack_.clear();
    key_.clear();
    root_object = false;
    in_string_ = false;
    return true;
  }
  bool on_document_end(error_code&) { return true; }

  bool on_object_begin(error_code&) {
    if (stack_.empty()) {
      root_object = true;
      stack_.push_back(scope::top);
      return true;
    }
    auto s = value_slot();
    switch (s) {
    case slot::params:
      f.params = f.params_object = true;
      f.clear_params();
      stack_.push_back(scope::params);
      break;
    case slot::error:
      f.error = true;
      f.error_code.reset();
      stack_.push_back(scope::error);
      break;
    case slot::result:
      f.result_object = true;
      f.result_last_seq.reset();
      stack_.push_back(scope::result);
      break;
    default:
      other(s);
      stack_.push_back(scope::other);
    }
    return true;
  }
  bool on_object_end(std::size_t, error_code&) { return pop(); }

  bool on_array_begin(error_code&) {
    if (!stack_.empty())
      other(value_slot());
    stack_.push_back(scope::array);
    return true;
  }
  bool on_array_end(std::size_t, error_code&) { return pop(); }

  bool on_key_part(std::string_view s, std::size_t, error_code&) {
    key_.append(s);
    return true;
  }
  bool on_key(std::string_view s, std::size_t, error_code&) {
    if (key_.empty()) {
      slot_ = slot_of(stack_.back(), s);
    } else {
      key_.append(s);
      slot_ = slot_of(stack_.back(), key_);
      key_.clear();
    }
    return true;
  }

  bool on_string_part(std::string_view s, std::size_t, error_code&) {
    string_piece(s);
    return true;
  }
  bool on_string(std::string_view s, std::size_t, error_code&) {
    string_piece(s);
    in_string_ = false;
    return true;
  }

  bool on_number_part(std::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, std::string_view, error_code&) {
    return put_number(json::value(i));
  }
  bool on_uint64(std::uint64_t u, std::string_view, error_code&) {
    return put_number(json::value(u));
  }
  bool on_double(double d, std::string_view, error_code&) {
    return put_number(json::value(d));
  }
  bool on_bool(bool, error_code&) {
    other(value_slot());
    return true;
  }
  bool on_null(error_code&) {
    other(value_slot());
    return true;
  }
  bool on_comment_part(std::string_view, error_code&) { return true; }
  bool on_comment(std::string_view, error_code&) { return true; }

private:
  /// The slot of a value starting now: array elements have none.
  slot value_slot() const {
    if (stack_.empty() || stack_.back() == scope::array)
      return slot::none;
    return slot_;
  }

  bool pop() {
    stack_.pop_back();
    slot_ = slot::none;
    return true;
  }

  string_field* string_slot(slot s) {
    switch (s) {
    case slot::method:
      return &f.method;
    case slot::data:
      return &f.data;
    case slot::type:
      return &f.type;
    case slot::encoding:
      return &f.encoding;
    case slot::session_id:
      return &f.session_id;
    case slot::resume_token:
      return &f.resume_token;
    default:
      return nullptr;
    }
  }

  /// A value of the wrong type for `s` (or one the runner ignores).
  void other(slot s) {
    if (auto* str = string_slot(s)) {
      str->clear();
      str->present = true;
      return;
    }
    switch (s) {
    case slot::params:
      f.params = true;
      f.params_object = false;
      f.clear_params();
      break;
    case slot::error:
      f.error = true;
      f.error_code.reset();
      break;
    case slot::result:
      f.result_object = false;
      f.result_last_seq.reset();
      break;
    default:
      // A null is not a number: this empties a numeric slot.
      assign_number(s, json::value(nullptr));
    }
  }

  bool put_number(const json::value& v) {
    auto s = value_slot();
    if (!assign_number(s, v))
      other(s);
    return true;
  }

  /// Files `v` in `s` if that is a numeric slot; false if it is not.
  bool assign_number(slot s, const json::value& v) {
    switch (s) {
    case slot::id:
      f.id = number<std::uint64_t>(v);
      return true;
    case slot::error_code:
      f.error_code = number<std::int64_t>(v);
      return true;
    case slot::result_last_seq:
      f.result_last_seq = number<std::uint64_t>(v);
      return true;
    case slot::seq:
      f.seq = number<std::uint64_t>(v);
      return true;
    case slot::dropped_bytes:
      f.dropped_bytes = number<std::uint64_t>(v);
      return true;
    case slot::dropped_frames:
      f.dropped_frames = number<std::uint64_t>(v);
      return true;
    case slot::exit_code:
      f.exit_code = number<std::int64_t>(v);
      return true;
    default:
      return false;
    }
  }

  void string_piece(std::string_view s) {
    if (!in_string_) {
      in_string_ = true;
      auto sl = value_slot();
      target_ = string_slot(sl);
      if (target_ == nullptr) {
        other(sl);
      } else {
        target_->present = target_->is_string = true;
        target_->text.clear();
      }
    }
    if (target_ != nullptr)
      target_->text.append(s);
  }

  std::vector<scope> stack_;
  std::string key_;
  slot slot_ = slot::none;
  bool in_string_ = false;
  string_field* target_ = nullptr;
};

} // namespace

struct rpc_scanner::impl {
  json::basic_parser<handler> parser{json::parse_options{}};
  std::string data;

  bool parse(std::string_view text);
  bool parse_around(std::string_view text, string_span data_span);
};

bool rpc_scanner::impl::parse(std::string_view text) {
  parser.reset();
  error_code ec;
  auto n = parser.write_some(false, text.data(), text.size(), ec);
  // Like json::parse: anything after the value but whitespace is an error.
  return !ec && n == text.size() && parser.handler().root_object;
}

/// Parses `text` as if `params.data` at `data_span` were the empty string;
/// its content was decoded (and checked) before.
bool rpc_scanner::impl::parse_around(std::string_view text,
                                     string_span data_span) {
  parser.reset();
  error_code ec;
  // The first piece ends with the opening quote, the second starts with
  // the closing one.
  auto head = text.substr(0, data_span.begin);
  auto tail = text.substr(data_span.end);
  auto n = parser.write_some(true, head.data(), head.size(), ec);
  if (ec || n != head.size())
    return false;
  n = parser.write_some(false, tail.data(), tail.size(), ec);
  return !ec && n == tail.size() && parser.handler().root_object;
}

rpc_scanner::rpc_scanner() : impl_(std::make_unique<impl>()) {}
rpc_scanner::~rpc_scanner() = default;

bool rpc_scanner::scan(std::string_view text) {
  auto& im = *impl_;
  if (scan_own_output(text, im.parser.handler().f))
    return true;
  if (text.size() < fast_data_above)
    return im.parse(text);
  // Boost.JSON decodes a string byte by byte after its first escape: a
  // 64 KiB chunk of lines cost the runner more than the server spent on it.
  // So the big string is decoded here and the parser sees it empty.
  auto span = find_params_data(text);
  im.data.clear();
  if (!span || !unescape_json_string(
                   text.substr(span->begin, span->end - span->begin), im.data))
    return im.parse(text);
  auto& data = im.parser.handler().f.data;
  // The parser must have found the same member (it sees the empty string);
  // whatever else it says, the whole text decides.
  if (!im.parse_around(text, *span) || !data.is_string || !data.text.empty())
    return im.parse(text);
  data.text.swap(im.data);
  return true;
}

const rpc_fields& rpc_scanner::fields() const {
  return impl_->parser.handler().f;
}

} // namespace actorexec::loadtest
