// The sampler thread's mutex, condition variable, clock and thread, on POSIX threads directly.
// std::mutex, std::condition_variable, std::thread and steady_clock::now are functions of the C++
// runtime library (libstdc++.so / libc++), not of its headers: with these, the plugin built with
// CONNTRACK_NFT_MINIMAL_RUNTIME needs no C++ runtime library on the router (docs/openwrt.md, flash).
#pragma once

#include <cerrno>
#include <ctime>
#include <pthread.h>

namespace ctnft {

class Mutex {
public:
    Mutex() { pthread_mutex_init(&m_, nullptr); }
    ~Mutex() { pthread_mutex_destroy(&m_); }
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;
    void lock() { pthread_mutex_lock(&m_); }
    void unlock() { pthread_mutex_unlock(&m_); }
    pthread_mutex_t* native() { return &m_; }

private:
    pthread_mutex_t m_;
};

class Lock {
public:
    explicit Lock(Mutex& m) : m_(m) { m_.lock(); }
    ~Lock() { m_.unlock(); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    Mutex& mutex() { return m_; }

private:
    Mutex& m_;
};

// Seconds on CLOCK_MONOTONIC (steady: not moved by NTP or the date command).
inline double monotonic_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// A condition variable whose timed wait runs on CLOCK_MONOTONIC.
class CondVar {
public:
    CondVar() {
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&c_, &attr);
        pthread_condattr_destroy(&attr);
    }
    ~CondVar() { pthread_cond_destroy(&c_); }
    CondVar(const CondVar&) = delete;
    CondVar& operator=(const CondVar&) = delete;
    void notify_all() { pthread_cond_broadcast(&c_); }
    // Waits until `done()` holds or CLOCK_MONOTONIC reaches `deadline` (seconds); the lock is held
    // on return. Returns done().
    template <class Pred>
    bool wait_until(Lock& lock, double deadline, Pred done) {
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(deadline);
        ts.tv_nsec = static_cast<long>((deadline - static_cast<double>(ts.tv_sec)) * 1e9);
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec += 1; ts.tv_nsec -= 1000000000L; }
        if (ts.tv_nsec < 0) ts.tv_nsec = 0;
        while (!done())
            if (pthread_cond_timedwait(&c_, lock.mutex().native(), &ts) == ETIMEDOUT) return done();
        return true;
    }

private:
    pthread_cond_t c_;
};

// A joinable thread running a member function of T. start() returns false if the system refused.
template <class T, void (T::*Run)()>
class MemberThread {
public:
    MemberThread() = default;
    ~MemberThread() { join(); }
    MemberThread(const MemberThread&) = delete;
    MemberThread& operator=(const MemberThread&) = delete;
    bool start(T* object) {
        if (running_) return false;
        running_ = pthread_create(&t_, nullptr, &MemberThread::trampoline, object) == 0;
        return running_;
    }
    bool joinable() const { return running_; }
    void join() {
        if (!running_) return;
        pthread_join(t_, nullptr);
        running_ = false;
    }

private:
    static void* trampoline(void* object) {
        (static_cast<T*>(object)->*Run)();
        return nullptr;
    }
    pthread_t t_{};
    bool running_ = false;
};

}  // namespace ctnft
