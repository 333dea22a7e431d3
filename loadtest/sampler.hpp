#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "loadtest/report.hpp"

namespace actorexec::loadtest {

/// Reads VmRSS, VmHWM, the fd count and CPU time of `pid` from /proc;
/// empty when the process is gone.
std::optional<server_sample> read_proc_sample(int pid);

/// Takes one sample of the server; empty when none could be taken.
using sample_source = std::function<std::optional<server_sample>()>;

/// Makes `s.hwm_kb` a high-water mark: at least `s.rss_kb` and `peak_kb`,
/// the mark of the samples before, which it then becomes. /proc's VmHWM
/// alone can go down between two reads: the kernel records the mark only
/// when it is about to lower RSS, from per-CPU counters that lag, and shows
/// the current RSS when that is higher (its own comment: such snapshots can
/// be inconsistent). Here a read at a peak showed 13,880 kB and one 6 ms
/// later 13,652.
void hold_high_water(server_sample& s, std::uint64_t& peak_kb);

/// Turns the bodies of the server's /metrics into samples. The endpoint has
/// no VmHWM: `hwm_kb` is the sample's RSS, which the sampler raises to the
/// highest RSS so far (a peak between two samples is missed, which /proc's
/// VmHWM would have caught).
class metrics_reader {
public:
  /// Fetches one /metrics body; false with `error` set when it cannot.
  using fetch_fn = std::function<bool(std::string& body, std::string& error)>;

  explicit metrics_reader(fetch_fn fetch) : fetch_(std::move(fetch)) {}

  /// One sample, or empty after a failed fetch or an unreadable body.
  std::optional<server_sample> operator()();

  /// Fetches or parses that failed, and what the first one said.
  std::uint64_t failures() const { return failures_; }
  const std::string& first_error() const { return first_error_; }

private:
  fetch_fn fetch_;
  std::uint64_t failures_ = 0;
  std::string first_error_;
};

/// Samples the server on its own thread, so that a busy event loop never
/// skews the time axis. The `hwm_kb` of the samples never goes down (see
/// hold_high_water).
class server_sampler {
public:
  using clock = std::chrono::steady_clock;

  /// Starts calling `source` every `period`; `t0` is the run's time zero.
  server_sampler(sample_source source, std::chrono::milliseconds period,
                 clock::time_point t0);
  ~server_sampler();

  server_sampler(const server_sampler&) = delete;
  server_sampler& operator=(const server_sampler&) = delete;

  /// Stops and returns every sample taken.
  std::vector<server_sample> stop();

private:
  void loop();

  sample_source source_;
  std::chrono::milliseconds period_;
  clock::time_point t0_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<server_sample> samples_;
  std::uint64_t peak_hwm_kb_ = 0;
  std::thread thread_;
};

} // namespace actorexec::loadtest
