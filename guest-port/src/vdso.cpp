// SPDX-License-Identifier: GPL-2.0
#include "vdso.hpp"

#include <sys/mman.h>
#include <time.h>
#include <x86intrin.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <string>

#include "host/file.hpp"
#include "host/time.hpp"
#include "vdso/vvar.h"

namespace guest {
namespace {

alignas(4096) constexpr unsigned char image[] = {
#include "vdso_image.inc"
};

constexpr std::int64_t ns_per_s = 1000000000;
constexpr std::int64_t refresh_every_ns = 1000000;
constexpr std::int64_t calibration_ns = 2000000;

// The clocks the vDSO serves; the wall clocks take --time-offset.
constexpr clockid_t wall_clocks[] = {CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI};
constexpr clockid_t steady_clocks[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
				       CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME};

std::int64_t now_ns(clockid_t c)
{
	struct timespec ts = host::clock_gettime(c);
	return ts.tv_sec * ns_per_s + ts.tv_nsec;
}

std::uint64_t rdtsc_ordered()
{
	_mm_lfence();
	return __rdtsc();
}

// The host keeps time with the TSC: then the guest can too.
bool host_uses_tsc()
{
	std::istringstream in(
		host::read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource")
			.value_or(""));
	std::string cs;
	return std::getline(in, cs) && cs == "tsc";
}

// A TSC reading and CLOCK_MONOTONIC_RAW at (nearly) the same instant:
// the clock read between two TSC reads, taken at their middle.  Of a few
// tries, the one whose TSC reads lie closest: an interrupt or a
// preemption between them would put an error into the rate that every
// later extrapolation multiplies.
std::pair<std::uint64_t, std::int64_t> sample()
{
	std::pair<std::uint64_t, std::int64_t> best{};
	std::uint64_t best_width = ~0ull;
	for (int i = 0; i < 5; i++) {
		std::uint64_t a = rdtsc_ordered();
		std::int64_t raw = now_ns(CLOCK_MONOTONIC_RAW);
		std::uint64_t b = rdtsc_ordered();
		if (b - a < best_width) {
			best_width = b - a;
			best = {a + (b - a) / 2, raw};
		}
	}
	return best;
}

// The vDSO's line (vdso/vvar.h): clock at TSC reading tsc.
std::int64_t extrapolate(const volatile guest_vvar *v, clockid_t clock, std::uint64_t tsc)
{
	auto delta = std::max<std::int64_t>(static_cast<std::int64_t>(tsc - v->tsc_base), 0);
	return v->base_ns[clock] +
	       static_cast<std::int64_t>((static_cast<unsigned __int128>(delta) * v->mult) >> 32);
}

} // namespace

KResult<Vdso> Vdso::create(PhysMemory& phys, std::int64_t time_offset_ns)
{
	std::uint64_t image_len = page_up(sizeof(image));
	auto off = phys.alloc(page_size + image_len);
	if (!off)
		return kerr(off.error());
	std::memcpy(phys.host(*off + page_size), image, sizeof(image));

	Vdso v(phys, *off, image_len, time_offset_ns, host_uses_tsc());
	if (v.use_tsc_) {
		// A first rate, over a short wait; each refresh makes it better.
		auto [tsc0, raw0] = sample();
		v.tsc0_ = tsc0;
		v.raw0_ = raw0;
		host::sleep_own(calibration_ns);
	}
	v.update();
	return v;
}

Vdso::Vdso(PhysMemory& phys, std::uint64_t vvar, std::uint64_t image_len,
	   std::int64_t offset_ns, bool use_tsc)
	: phys_(&phys), vvar_(vvar), image_len_(image_len), offset_ns_(offset_ns),
	  use_tsc_(use_tsc)
{
}

KResult<std::uint64_t> Vdso::map(Mm& mm) const
{
	auto at = mm.map_kernel_pages(0, page_size + image_len_, PROT_READ, vvar_, "[vvar]");
	if (!at)
		return at;
	auto img = mm.map_kernel_pages(*at + page_size, image_len_, PROT_READ | PROT_EXEC,
				       vvar_ + page_size, "[vdso]");
	if (!img)
		return img;
	return *img;
}

std::optional<std::int64_t> Vdso::read_ns(clockid_t clock) const
{
	std::lock_guard lock(*lock_);
	const auto *v = reinterpret_cast<const volatile guest_vvar *>(phys_->host(vvar_));
	if (!v->use_tsc || clock < 0 || clock >= GUEST_VVAR_CLOCKS || !(v->clocks >> clock & 1))
		return std::nullopt;
	return extrapolate(v, clock, rdtsc_ordered());
}

void Vdso::refresh()
{
	std::unique_lock lock(*lock_, std::try_to_lock);
	if (lock.owns_lock() && now_ns(CLOCK_MONOTONIC) - last_refresh_ >= refresh_every_ns)
		update();
}

void Vdso::update()
{
	auto *v = reinterpret_cast<volatile guest_vvar *>(phys_->host(vvar_));
	last_refresh_ = now_ns(CLOCK_MONOTONIC);

	v->seq = v->seq + 1;	// odd: being written
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	v->use_tsc = use_tsc_;
	if (use_tsc_) {
		auto [tsc, raw] = sample();
		// The page's line until it is rewritten below: what the
		// guest could have read at tsc.
		bool first = v->mult == 0;
		std::uint64_t mult = static_cast<std::uint64_t>(
			(static_cast<unsigned __int128>(raw - raw0_) << 32) / std::max<std::uint64_t>(tsc - tsc0_, 1));

		std::uint64_t clocks = 0;
		for (clockid_t c : wall_clocks) {
			v->base_ns[c] = now_ns(c) + offset_ns_;
			clocks |= 1ull << c;
		}
		for (clockid_t c : steady_clocks) {
			std::int64_t host = now_ns(c);
			v->base_ns[c] = first ? host : std::max(host, extrapolate(v, c, tsc));
			clocks |= 1ull << c;
		}
		v->tsc_base = tsc;
		v->mult = mult;
		v->clocks = clocks;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	v->seq = v->seq + 1;	// even: done
}

} // namespace guest
