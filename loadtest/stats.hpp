#pragma once

#include <cstddef>
#include <vector>

namespace actorexec::loadtest {

/// Order statistics of one latency metric, in the samples' unit.
struct summary {
  std::size_t count = 0;
  double min = 0;
  double mean = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
};

/// The nearest-rank percentile (0 < p <= 100) of ascending `sorted`: the
/// smallest sample such that at least p percent of all samples are at or
/// below it. 0 for no samples.
double percentile(const std::vector<double>& sorted, double p);

/// Sorts a copy of `samples` and summarizes it.
summary summarize(std::vector<double> samples);

/// At most `limit` samples spread evenly over the sorted set, for plots:
/// keeps the distribution's shape without writing every sample.
std::vector<double> thin_out(std::vector<double> samples, std::size_t limit);

} // namespace actorexec::loadtest
