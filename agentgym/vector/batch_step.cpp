// MujocoBatch's step in native code (agentgym/vector/batch_native.py builds and loads it).
//
// One call steps the sub-envs a mask selects, each exactly as Gymnasium's MujocoEnv steps
// one (its controls in, frame_skip mj_step calls, mj_rnePostConstraint when contact forces
// are read), then copies the fields the env reads out of every sub-env's mjData into one
// [N, size] array per field. The calling thread and the pool's workers take sub-envs from
// one shared counter, so a worker the OS runs late holds up nothing: the caller waits only
// for the workers that joined while sub-envs were left. Workers sleep between calls (no
// spinning), so a learner's own threads get the cores back between env steps.

#include <mujoco/mujoco.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace {

struct Job {
  const mjModel* model;
  mjData* const* data;      // [n]
  const double* ctrl;       // [n, nu]
  const std::uint8_t* step;  // [n]: 1 steps the sub-env; every row's fields are copied
  int n;
  int nu;
  int nstep;
  int post_constraint;
  int nfield;
  const std::int64_t* source;  // [nfield, n]: address of the field in each sub-env's mjData
  double* const* target;       // [nfield]: the field's [n, size] array
  const std::int64_t* size;    // [nfield]: numbers per sub-env
  std::atomic<int> next{0};
  std::atomic<int> failed{-1};  // the first sub-env whose step threw, or -1
};

void run(Job* job) {
  for (;;) {
    int i = job->next.fetch_add(1);
    if (i >= job->n) return;
    mjData* d = job->data[i];
    try {
      if (job->step[i]) {
        std::memcpy(d->ctrl, job->ctrl + static_cast<std::size_t>(i) * job->nu,
                    sizeof(mjtNum) * job->nu);
        for (int s = 0; s < job->nstep; ++s) mj_step(job->model, d);
        if (job->post_constraint) mj_rnePostConstraint(job->model, d);
      }
      for (int f = 0; f < job->nfield; ++f) {
        const double* from = reinterpret_cast<const double*>(
            job->source[static_cast<std::size_t>(f) * job->n + i]);
        std::memcpy(job->target[f] + static_cast<std::size_t>(i) * job->size[f], from,
                    sizeof(double) * job->size[f]);
      }
    } catch (...) {  // mju_error through the Python bindings' handler
      int none = -1;
      job->failed.compare_exchange_strong(none, i);
    }
  }
}

struct Pool {
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable start;
  std::condition_variable idle;
  std::uint64_t generation = 0;
  Job* job = nullptr;
  bool open = false;
  bool stop = false;
  int active = 0;

  explicit Pool(int helpers) {
    for (int w = 0; w < helpers; ++w) workers.emplace_back([this] { work(); });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    start.notify_all();
    for (auto& t : workers) t.join();
  }

  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      Job* mine;
      {
        std::unique_lock<std::mutex> lock(mutex);
        start.wait(lock, [&] { return stop || generation != seen; });
        if (stop) return;
        seen = generation;
        if (!open) continue;  // the caller finished this step before this worker woke
        ++active;
        mine = job;
      }
      run(mine);
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (--active == 0) idle.notify_one();
      }
    }
  }

  void step(Job* j) {
    if (!workers.empty()) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        job = j;
        open = true;
        ++generation;
      }
      start.notify_all();
    }
    run(j);
    if (!workers.empty()) {
      std::unique_lock<std::mutex> lock(mutex);
      open = false;
      idle.wait(lock, [&] { return active == 0; });
      job = nullptr;
    }
  }
};

}  // namespace

extern "C" {

void* agentgym_batch_pool_create(int helpers) { return new Pool(helpers < 0 ? 0 : helpers); }

void agentgym_batch_pool_destroy(void* pool) { delete static_cast<Pool*>(pool); }

// Returns -1, or the index of the first sub-env whose step raised a MuJoCo error.
int agentgym_batch_step(void* pool, const void* model, void* const* data, const double* ctrl,
                        const std::uint8_t* step, int n, int nu, int nstep,
                        int post_constraint, int nfield, const std::int64_t* source,
                        double* const* target, const std::int64_t* size) {
  Job job;
  job.model = static_cast<const mjModel*>(model);
  job.data = reinterpret_cast<mjData* const*>(data);
  job.ctrl = ctrl;
  job.step = step;
  job.n = n;
  job.nu = nu;
  job.nstep = nstep;
  job.post_constraint = post_constraint;
  job.nfield = nfield;
  job.source = source;
  job.target = target;
  job.size = size;
  static_cast<Pool*>(pool)->step(&job);
  return job.failed.load();
}

}  // extern "C"
