#include "loadtest/event_loop.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "loadtest/event_loop_asio.hpp"

namespace actorexec::loadtest {

event_loop::event_loop() : impl_(std::make_unique<impl>()) {}

event_loop::~event_loop() = default;

void event_loop::run() {
  impl_->ioc.run();
}

void event_loop::post(std::function<void()> fn) {
  boost::asio::post(impl_->ioc, std::move(fn));
}

struct loop_timer::impl {
  explicit impl(event_loop& loop) : timer(loop.get().ioc) {}
  boost::asio::steady_timer timer;
  /// Counts starts and cancels: a wait that expired just before a cancel
  /// is already queued with success, and must still not run.
  std::uint64_t generation = 0;
};

loop_timer::loop_timer(event_loop& loop)
    : impl_(std::make_shared<impl>(loop)) {}

loop_timer::~loop_timer() {
  cancel();
}

void loop_timer::start(std::chrono::milliseconds after,
                       std::function<void()> fn) {
  auto gen = ++impl_->generation;
  impl_->timer.expires_after(after);
  impl_->timer.async_wait([weak = std::weak_ptr<impl>(impl_), gen,
                           fn = std::move(fn)](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self && self->generation == gen)
      fn();
  });
}

void loop_timer::cancel() {
  ++impl_->generation;
  impl_->timer.cancel();
}

} // namespace actorexec::loadtest
