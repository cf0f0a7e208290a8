// Base of every AsyncWorker: Run() does the blocking work on a libuv thread and returns a
// Status; on the JS thread the promise is resolved with Result() or rejected with a coded error.
// C++ exceptions escaping Run() (bad_alloc, bugs) become OUT_OF_MEMORY / INTERNAL rejections.
#pragma once

#include <napi.h>

#include <new>

#include "core/status.h"
#include "js_errors.h"

namespace paddock {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  virtual Status Run() = 0;                      // worker thread: no JS here
  virtual Napi::Value Result(Napi::Env env) = 0;  // JS thread, after a successful Run
  virtual void Finished() {}                      // JS thread, success or failure

  void Execute() override {
    try {
      status_ = Run();
    } catch (const std::bad_alloc&) {
      status_ = PD_ERROR(OutOfMemory, "out of memory");
    } catch (const std::exception& e) {
      status_ = PD_ERROR(Internal, "unexpected C++ exception: %s", e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Finished();
    if (!status_.ok()) {
      deferred_.Reject(js_error(env, status_).Value());
      return;
    }
    try {
      deferred_.Resolve(Result(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    Napi::HandleScope scope(Env());
    Finished();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Status status_;
};

// An async entry point: makes the worker, queues it and returns its promise. Argument errors
// thrown while making it (throw_invalid) reject the promise like any other failure, so these
// calls never throw synchronously.
template <class MakeWorker>
Napi::Value queue_promise(Napi::Env env, MakeWorker make_worker) {
  try {
    PromiseWorker* w = make_worker();
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  } catch (const Napi::Error& e) {
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    d.Reject(e.Value());
    return d.Promise();
  }
}

}  // namespace paddock
