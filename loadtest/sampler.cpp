#include "loadtest/sampler.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "loadtest/prometheus.hpp"

namespace actorexec::loadtest {

namespace {

std::uint64_t count_fds(int pid) {
  auto path = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr)
    return 0;
  std::uint64_t n = 0;
  while (auto* entry = readdir(dir))
    if (entry->d_name[0] != '.')
      ++n;
  closedir(dir);
  return n;
}

/// utime + stime (fields 14 and 15 of /proc/PID/stat), in seconds. The
/// command name may hold spaces and parentheses, so parse after the last ')'.
std::optional<double> cpu_seconds(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text;
  if (!std::getline(in, text))
    return std::nullopt;
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return std::nullopt;
  std::istringstream fields{text.substr(close + 2)};
  std::string skip;
  // After ')': state is field 3, so utime (14) is the 12th token.
  for (int i = 0; i < 11; ++i)
    fields >> skip;
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

} // namespace

std::optional<server_sample> read_proc_sample(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  if (!in)
    return std::nullopt;
  server_sample s;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      s.rss_kb = std::stoull(line.substr(6));
    else if (line.rfind("VmHWM:", 0) == 0)
      s.hwm_kb = std::stoull(line.substr(6));
  }
  auto cpu = cpu_seconds(pid);
  if (!cpu)
    return std::nullopt;
  s.cpu_s = *cpu;
  s.fds = count_fds(pid);
  return s;
}

void hold_high_water(server_sample& s, std::uint64_t& peak_kb) {
  peak_kb = std::max({peak_kb, s.hwm_kb, s.rss_kb});
  s.hwm_kb = peak_kb;
}

std::optional<server_sample> metrics_reader::operator()() {
  std::string body, error;
  server_sample s;
  if (!fetch_(body, error) || !parse_process_metrics(body, s, error)) {
    if (failures_++ == 0)
      first_error_ = error;
    return std::nullopt;
  }
  s.hwm_kb = s.rss_kb;
  return s;
}

server_sampler::server_sampler(sample_source source,
                               std::chrono::milliseconds period,
                               clock::time_point t0)
    : source_(std::move(source)), period_(period), t0_(t0),
      thread_([this] { loop(); }) {}

server_sampler::~server_sampler() {
  stop();
}

std::vector<server_sample> server_sampler::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
  std::lock_guard<std::mutex> guard{mtx_};
  return samples_;
}

void server_sampler::loop() {
  std::unique_lock<std::mutex> lock{mtx_};
  while (!stopping_) {
    lock.unlock();
    auto s = source_();
    auto now = clock::now();
    lock.lock();
    if (s) {
      s->t_s = std::chrono::duration<double>(now - t0_).count();
      hold_high_water(*s, peak_hwm_kb_);
      samples_.push_back(*s);
    }
    cv_.wait_for(lock, period_, [this] { return stopping_; });
  }
}

} // namespace actorexec::loadtest
