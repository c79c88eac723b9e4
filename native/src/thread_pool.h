// A small fork-join pool of std::threads for work that is claimed dynamically (an atomic task
// counter inside the job): run(T, fn) calls fn on the calling thread and on up to T-1 workers,
// and returns once the calling thread's fn has returned and every worker that joined has left.
// A worker that wakes too late (its core busy with another process) simply does not join, so a
// loaded machine slows a product down to one thread at worst, never below. Workers spin briefly
// after a job (the next gemm of a training step usually follows within microseconds), then sleep
// on a condition variable, so an idle pool costs no CPU.
#pragma once
#include <functional>

namespace tg {

// Sets the number of threads, the calling thread included (clamped to [1, 256]).
void set_num_threads(int n);
int num_threads();
// Runs fn() on the calling thread and on up to T-1 pool workers, as described above; T <= 1
// (or a pool of one) runs fn() once, inline. fn must claim its work so that any number of
// concurrent callers >= 1 completes it.
void parallel_run(int T, const std::function<void()>& fn);
// The number of hardware threads (std::thread::hardware_concurrency, at least 1).
int hardware_threads();

}  // namespace tg
