#include "actors/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <boost/json/serialize.hpp>

namespace actorexec::log {

namespace {

std::atomic<int> min_level{static_cast<int>(level::info)};
std::mutex write_mutex;

const char* name_of(level lvl) {
  switch (lvl) {
  case level::debug:
    return "debug";
  case level::info:
    return "info";
  case level::warn:
    return "warn";
  default:
    return "error";
  }
}

/// RFC 3339 UTC time with milliseconds, e.g. 2026-12-01T10:00:00.123Z.
std::string now_string() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

} // namespace

std::string utc_seconds() {
  auto t =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool set_level(std::string_view name) {
  std::string lower;
  for (auto c : name)
    lower.push_back(static_cast<char>(std::tolower(c)));
  level lvl;
  if (lower == "debug")
    lvl = level::debug;
  else if (lower == "info")
    lvl = level::info;
  else if (lower == "warn" || lower == "warning")
    lvl = level::warn;
  else if (lower == "error")
    lvl = level::error;
  else
    return false;
  min_level = static_cast<int>(lvl);
  return true;
}

bool enabled(level lvl) {
  return static_cast<int>(lvl) >= min_level.load(std::memory_order_relaxed);
}

namespace {

void emit(level lvl, std::string_view event, boost::json::object fields) {
  boost::json::object line;
  line["time"] = now_string();
  line["level"] = name_of(lvl);
  line["event"] = event;
  for (auto& kv : fields)
    line[kv.key()] = std::move(kv.value());
  auto text = boost::json::serialize(line);
  text.push_back('\n');
  std::lock_guard<std::mutex> guard{write_mutex};
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

} // namespace

void write(level lvl, std::string_view event, boost::json::object fields) {
  if (enabled(lvl))
    emit(lvl, event, std::move(fields));
}

void lifecycle(std::string_view event, boost::json::object fields) {
  emit(level::info, event, std::move(fields));
}

} // namespace actorexec::log
