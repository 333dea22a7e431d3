#include "loadtest/json_fields.hpp"

#include "loadtest/scenario.hpp"

namespace json = boost::json;

namespace actorexec::loadtest::json_fields {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw scenario_error(path + ": " + what);
}

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string{key} : path + "." + std::string{key};
}

std::string index_path(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

const json::object& as_object(const json::value& v, const std::string& path) {
  if (!v.is_object())
    fail(path, "must be an object");
  return v.get_object();
}

const json::array& as_array(const json::value& v, const std::string& path) {
  if (!v.is_array())
    fail(path, "must be an array");
  return v.get_array();
}

std::string as_string(const json::value& v, const std::string& path) {
  if (!v.is_string())
    fail(path, "must be a string");
  return std::string{v.get_string()};
}

bool as_bool(const json::value& v, const std::string& path) {
  if (!v.is_bool())
    fail(path, "must be true or false");
  return v.get_bool();
}

double as_number(const json::value& v, const std::string& path) {
  json::error_code ec;
  auto d = v.to_number<double>(ec);
  if (ec)
    fail(path, "must be a number");
  return d;
}

std::int64_t as_int(const json::value& v, const std::string& path) {
  if (v.is_int64())
    return v.get_int64();
  if (v.is_uint64() &&
      v.get_uint64() <=
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return static_cast<std::int64_t>(v.get_uint64());
  fail(path, "must be an integer");
}

std::uint64_t as_uint(const json::value& v, const std::string& path,
                      std::uint64_t lo, std::uint64_t hi) {
  auto n = as_int(v, path);
  if (n < 0 || static_cast<std::uint64_t>(n) < lo ||
      static_cast<std::uint64_t>(n) > hi)
    fail(path, "must be an integer from " + std::to_string(lo) + " to " +
                   std::to_string(hi));
  return static_cast<std::uint64_t>(n);
}

namespace {

/// An array's elements, each read by `read` under its own path.
template <class T, class Read>
std::vector<T> as_list(const json::value& v, const std::string& path,
                       Read read) {
  std::vector<T> out;
  const auto& arr = as_array(v, path);
  for (std::size_t i = 0; i < arr.size(); ++i)
    out.push_back(read(arr[i], index_path(path, i)));
  return out;
}

} // namespace

std::vector<std::string> as_strings(const json::value& v,
                                    const std::string& path) {
  return as_list<std::string>(v, path, as_string);
}

std::vector<std::int64_t> as_ints(const json::value& v,
                                  const std::string& path) {
  return as_list<std::int64_t>(v, path, as_int);
}

const json::value& required(const json::object& obj, const std::string& path,
                            std::string_view key) {
  auto* x = obj.if_contains(key);
  if (x == nullptr)
    fail(join(path, key), "is required");
  return *x;
}

void read_u32(const json::object& obj, const std::string& path,
              std::string_view key, std::uint32_t& out, std::uint64_t lo,
              std::uint64_t hi) {
  if (auto* x = obj.if_contains(key))
    out = static_cast<std::uint32_t>(as_uint(*x, join(path, key), lo, hi));
}

void reject_unknown(const json::object& obj, const std::string& path,
                    const std::set<std::string_view>& known) {
  for (const auto& kv : obj)
    if (known.count(kv.key()) == 0)
      fail(join(path, kv.key()), "unknown field");
}

} // namespace actorexec::loadtest::json_fields
