// SPDX-License-Identifier: MIT
//
// libunpriv's backend suite: every test in it runs once per backend, and
// each run ends with the line
//
//	libunpriv[BACKEND]: N passed, N failed
//
// A backend that cannot be opened here (module, without /dev/unpriv) is
// reported as skipped.  --backend=NAME runs one backend only; every other
// option is doctest's.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "guest.hpp"

namespace unpriv::test {
namespace {

BackendKind backend_under_test = BackendKind::module;

// Keeps the counts of the last test run.
struct Counter : doctest::IReporter {
	static inline doctest::TestRunStats last{};

	explicit Counter(const doctest::ContextOptions&) {}
	void report_query(const doctest::QueryData&) override {}
	void test_run_start() override {}
	void test_run_end(const doctest::TestRunStats& s) override { last = s; }
	void test_case_start(const doctest::TestCaseData&) override {}
	void test_case_reenter(const doctest::TestCaseData&) override {}
	void test_case_end(const doctest::CurrentTestCaseStats&) override {}
	void test_case_exception(const doctest::TestCaseException&) override {}
	void subcase_start(const doctest::SubcaseSignature&) override {}
	void subcase_end() override {}
	void log_assert(const doctest::AssertData&) override {}
	void log_message(const doctest::MessageData&) override {}
	void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("counter", 1, Counter);

} // namespace

BackendKind current_backend()
{
	return backend_under_test;
}

} // namespace unpriv::test

int main(int argc, char **argv)
{
	using unpriv::Backend;
	using unpriv::BackendKind;

	std::vector<BackendKind> kinds = {BackendKind::module, BackendKind::ptrace,
					  BackendKind::seccomp};
	std::vector<char *> args;
	for (int i = 0; i < argc; i++) {
		const char *opt = "--backend=";
		if (!std::strncmp(argv[i], opt, std::strlen(opt))) {
			auto kind = Backend::parse(argv[i] + std::strlen(opt));
			if (!kind) {
				std::fprintf(stderr, "%s: %s: %s\n", argv[0], argv[i],
					     kind.error().message().c_str());
				return 2;
			}
			kinds = {*kind};
			continue;
		}
		args.push_back(argv[i]);
	}

	int rc = 0;
	for (BackendKind kind : kinds) {
		auto name = std::string(unpriv::to_string(kind));
		auto backend = Backend::open(kind);
		if (!backend) {
			std::printf("libunpriv[%s]: skipped: %s\n", name.c_str(),
				    backend.error().message().c_str());
			continue;
		}
		unpriv::test::backend_under_test = kind;
		std::printf("== libunpriv[%s]\n", name.c_str());
		std::fflush(stdout);

		doctest::Context context;
		context.applyCommandLine(static_cast<int>(args.size()), args.data());
		if (context.run() != 0)
			rc = 1;
		if (context.shouldExit())
			return rc;
		const auto& s = unpriv::test::Counter::last;
		unsigned failed = s.numTestCasesFailed;
		unsigned passed = s.numTestCasesPassingFilters - failed;
		std::printf("libunpriv[%s]: %u passed, %u failed\n", name.c_str(),
			    passed, failed);
		std::fflush(stdout);
	}
	return rc;
}
