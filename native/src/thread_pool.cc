// The fork-join thread pool (see thread_pool.h).
//
// Protocol: `gate_` packs [generation:32 | closed:1 | inside:31]. run() publishes a new
// generation (gate open, nobody inside) and wakes the workers; a worker joins by incrementing
// `inside` with a compare-and-swap that succeeds only while the generation is its own and the
// gate is open; it leaves by decrementing. When the caller's fn returns, it closes the gate and
// waits for `inside` to reach zero — after that no worker can touch the job.
#include "thread_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define TG_PAUSE() _mm_pause()
#else
#define TG_PAUSE() ((void)0)
#endif

namespace tg {
namespace {

// How long an idle worker keeps spinning for the next job before it sleeps.
constexpr auto kSpin = std::chrono::microseconds(100);
constexpr uint64_t kClosed = uint64_t{1} << 31;
constexpr uint64_t kInside = kClosed - 1;

class Pool {
 public:
  explicit Pool(int n) : n_(n) {
    for (int i = 1; i < n; i++) workers_.emplace_back([this, i] { loop(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_.store(true, std::memory_order_release);
      wake_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int size() const { return n_; }

  void run(int T, const std::function<void()>& fn) {
    const uint64_t gen = (gate_.load(std::memory_order_relaxed) >> 32) + 1;
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = &fn;
      active_ = T;
      gate_.store(gen << 32, std::memory_order_release);
      wake_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    fn();
    uint64_t v = gate_.fetch_or(kClosed, std::memory_order_acq_rel) | kClosed;
    for (int spins = 0; (v & kInside) != 0; spins++) {
      if (spins < 4096)
        TG_PAUSE();
      else
        std::this_thread::yield();  // a joined worker lost its core: let it have ours
      v = gate_.load(std::memory_order_acquire);
    }
  }

 private:
  void loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      const auto until = std::chrono::steady_clock::now() + kSpin;
      int spins = 0;
      while (wake_.load(std::memory_order_acquire) == seen) {
        TG_PAUSE();
        if ((++spins & 63) == 0 && std::chrono::steady_clock::now() > until) {
          std::unique_lock<std::mutex> lk(mu_);
          cv_.wait(lk, [&] { return wake_.load(std::memory_order_acquire) != seen; });
          break;
        }
      }
      seen = wake_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_acquire)) return;
      // join the current generation if it is still open
      uint64_t v = gate_.load(std::memory_order_acquire);
      bool joined = false;
      while ((v & kClosed) == 0) {
        if (gate_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
          joined = true;
          break;
        }
      }
      if (!joined) continue;
      if (index < active_) (*job_)();
      gate_.fetch_sub(1, std::memory_order_release);
    }
  }

  const int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> wake_{0};
  std::atomic<uint64_t> gate_{kClosed};
  std::atomic<bool> stop_{false};
  const std::function<void()>* job_ = nullptr;
  int active_ = 0;
};

std::unique_ptr<Pool>& pool() {
  static std::unique_ptr<Pool> p;
  return p;
}

int default_threads() {
  const char* env = std::getenv("TG_THREADS");
  if (env != nullptr && std::atoi(env) > 0) return std::atoi(env);
  return hardware_threads();
}

}  // namespace

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  auto& p = pool();
  if (p && p->size() == n) return;
  p.reset();  // joins the old workers
  p.reset(new Pool(n));
}

int num_threads() {
  if (!pool()) set_num_threads(default_threads());
  return pool()->size();
}

void parallel_run(int T, const std::function<void()>& fn) {
  if (T > num_threads()) T = num_threads();
  if (T <= 1) {
    fn();
    return;
  }
  pool()->run(T, fn);
}

}  // namespace tg
