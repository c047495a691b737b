// A master's metadata stack (OpLog + MasterStateMachine + Namespace) in a temp dir,
// with a manual clock, that a test can close and reopen.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "master/namespace.h"
#include "master/op_log.h"
#include "master/state_machine.h"
#include "tests/test_util.h"

namespace gfs::master {

class NamespaceFixture : public gfs::testing::GfsTest {
 protected:
  void SetUp() override {
    GfsTest::SetUp();
    data_dir_ = test_dir() + "/meta";
    Reopen();
  }

  // Closes the metadata (if open) and opens it again from disk.
  void Reopen(OpLogOptions log_options = {}) {
    ns_.reset();
    log_.reset();
    log_options.data_dir = data_dir_;
    auto log = OpLog::Open(log_options, &state_machine_);
    ASSERT_OK(log);
    log_ = std::move(log).value();
    ns_ = std::make_unique<Namespace>(NamespaceOptions{}, log_.get(), &clock_);
  }

  std::string data_dir_;
  ManualClock clock_;
  MasterStateMachine state_machine_;
  std::unique_ptr<OpLog> log_;
  std::unique_ptr<Namespace> ns_;
};

}  // namespace gfs::master
