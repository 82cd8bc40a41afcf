// SPDX-License-Identifier: GPL-2.0
#include "mm/mm.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "host/file.hpp"
#include "host/io.hpp"

namespace guest {
namespace {

constexpr int prot_rwx = PROT_READ | PROT_WRITE | PROT_EXEC;
constexpr int prot_sem = 0x8;	// PROT_SEM, which x86 ignores

unpriv::Prot to_prot(int prot)
{
	return static_cast<unpriv::Prot>(prot & prot_rwx);
}

// On x86-64 any access right implies read.
bool readable(int prot)
{
	return prot & prot_rwx;
}

// pread until len bytes or end of file; the count read, or -errno.
long pread_full(int fd, std::byte *buf, std::size_t len, std::uint64_t off)
{
	auto n = host::pread_full(fd, std::span(buf, len), off);
	return n ? static_cast<long>(*n) : -n.error();
}

bool mergeable(const Vma& a, const Vma& b)
{
	if (a.end != b.start || a.prot != b.prot || a.shared != b.shared ||
	    a.growsdown != b.growsdown || a.file != b.file || a.name != b.name ||
	    a.kernel_pages != b.kernel_pages)
		return false;
	if (a.file && b.file_off != a.file_off + a.len())
		return false;
	if (a.phys.has_value() != b.phys.has_value())
		return false;
	return !a.phys || *b.phys == *a.phys + a.len();
}

} // namespace

Mm::Mm(PhysMemory& phys, unpriv::AddressSpace as, std::vector<AddrRange> reserved)
	: phys_(phys), reserved_(std::move(reserved)),
	  shared_(as.kind() == unpriv::BackendKind::module)
{
	auto m = std::make_unique<Mirror>(Mirror{std::move(as), std::this_thread::get_id()});
	mirrors_.push_back(std::move(m));
	std::sort(reserved_.begin(), reserved_.end(),
		  [](const AddrRange& a, const AddrRange& b) { return a.start > b.start; });
	for (const auto& r : reserved_)
		if (r.start < top_ && r.end >= top_)
			top_ = r.start & ~(page_size - 1);
}

Mm::~Mm()
{
	for (auto& [start, v] : vmas_)
		if (v.phys && !v.kernel_pages)
			phys_.free(*v.phys, v.len());
	for (const auto& d : deferred_)
		phys_.free(d.off, d.len);
}

KResult<std::unique_ptr<Mm>> Mm::fork(unpriv::AddressSpace as) const
{
	std::lock_guard lock(lock_);
	auto child = std::make_unique<Mm>(phys_, std::move(as));
	child->reserved_ = reserved_;
	child->top_ = top_;
	child->brk_start_ = brk_start_;
	child->brk_ = brk_;
	child->stats_.forks = 1;
	for (const auto& [start, v] : vmas_) {
		Vma c = v;
		if (v.phys && !v.kernel_pages) {
			if (v.shared) {
				phys_.share(*v.phys, v.len());
			} else {
				std::uint64_t bytes = 0;
				auto copy = phys_.copy(*v.phys, v.len(), &bytes);
				child->stats_.fork_pages += bytes / page_size;
				if (!copy) {
					c.phys.reset();
					child->vmas_.emplace(start, std::move(c));
					return kerr(copy.error());
				}
				c.phys = *copy;
			}
		}
		child->vmas_.emplace(start, std::move(c));
	}
	// The new address space is empty: only the mappings to make.
	std::vector<unpriv::AsOp> ops;
	for (const auto& [start, v] : child->vmas_)
		child->host_ops(v, v.start, v.end, ops);
	if (auto r = child->commit(ops); !r)
		return kerr(r.error());
	return child;
}

// --- the list ---------------------------------------------------------------

Mm::VmaMap::iterator Mm::first_ending_after(std::uint64_t addr)
{
	auto it = vmas_.upper_bound(addr);
	if (it != vmas_.begin()) {
		auto prev = std::prev(it);
		if (prev->second.end > addr)
			return prev;
	}
	return it;
}

Mm::VmaMap::const_iterator Mm::first_ending_after(std::uint64_t addr) const
{
	auto it = vmas_.upper_bound(addr);
	if (it != vmas_.begin()) {
		auto prev = std::prev(it);
		if (prev->second.end > addr)
			return prev;
	}
	return it;
}

bool Mm::runnable(std::uint64_t addr) const noexcept
{
	if (addr >= user_end)
		return false;
	for (const auto& r : reserved_)
		if (r.start <= addr && addr < r.end)
			return false;
	return true;
}

const Vma *Mm::find(std::uint64_t addr) const
{
	std::lock_guard lock(lock_);
	auto it = first_ending_after(addr);
	if (it == vmas_.end() || it->first > addr)
		return nullptr;
	return &it->second;
}

void Mm::split_at(std::uint64_t addr)
{
	auto it = first_ending_after(addr);
	if (it == vmas_.end() || it->first >= addr)
		return;

	Vma& v = it->second;
	std::uint64_t delta = addr - v.start;
	Vma tail = v;

	tail.start = addr;
	tail.file_off += v.file ? delta : 0;
	if (tail.phys)
		*tail.phys += delta;
	if (!v.copied.empty()) {
		auto n = static_cast<std::ptrdiff_t>(delta / page_size);
		tail.copied.assign(v.copied.begin() + n, v.copied.end());
		v.copied.resize(static_cast<std::size_t>(n));
	}
	v.end = addr;
	vmas_.emplace(addr, std::move(tail));
}

void Mm::remove(std::uint64_t start, std::uint64_t end)
{
	split_at(start);
	split_at(end);
	for (auto it = vmas_.lower_bound(start);
	     it != vmas_.end() && it->first < end;) {
		if (it->second.phys && !it->second.kernel_pages)
			release_phys(*it->second.phys, it->second.len());
		it = vmas_.erase(it);
	}
}

void Mm::merge_around(std::uint64_t start, std::uint64_t end)
{
	auto it = first_ending_after(start);
	if (it != vmas_.begin())
		--it;
	while (it != vmas_.end() && it->first <= end) {
		auto next = std::next(it);
		if (next == vmas_.end() || !mergeable(it->second, next->second)) {
			it = next;
			continue;
		}
		Vma& a = it->second;
		a.end = next->second.end;
		a.copied.insert(a.copied.end(), next->second.copied.begin(),
				next->second.copied.end());
		vmas_.erase(next);
	}
}

bool Mm::is_free(std::uint64_t start, std::uint64_t end) const
{
	auto it = first_ending_after(start);
	if (it != vmas_.end() && it->first < end)
		return false;
	for (const auto& r : reserved_)
		if (r.start < end && start < r.end)
			return false;
	return true;
}

bool Mm::is_mapped(std::uint64_t start, std::uint64_t end) const
{
	for (auto it = first_ending_after(start); start < end; ++it) {
		if (it == vmas_.end() || it->first > start)
			return false;
		start = it->second.end;
	}
	return true;
}

std::optional<std::uint64_t> Mm::find_free(std::uint64_t len, std::uint64_t hint,
					   bool below_2g) const
{
	hint = page_up(hint);
	if (hint >= user_min && hint + len <= user_end && hint + len > hint &&
	    (!below_2g || hint + len <= 0x80000000) && is_free(hint, hint + len))
		return hint;

	// Everything in use, in address order.
	std::vector<AddrRange> used;
	used.reserve(vmas_.size() + reserved_.size());
	for (const auto& [start, v] : vmas_)
		used.push_back({v.start, v.end});
	used.insert(used.end(), reserved_.begin(), reserved_.end());
	std::sort(used.begin(), used.end(),
		  [](const AddrRange& a, const AddrRange& b) { return a.start < b.start; });

	// Top down from hi to lo, as Linux's default layout.
	auto search = [&](std::uint64_t lo, std::uint64_t hi) -> std::optional<std::uint64_t> {
		std::uint64_t gap_end = hi;
		for (auto r = used.rbegin(); r != used.rend(); ++r) {
			if (r->start >= gap_end)
				continue;
			std::uint64_t gap_start = std::max(r->end, lo);
			if (gap_end > gap_start && gap_end - gap_start >= len)
				return gap_end - len;
			gap_end = r->start;
			if (gap_end <= lo)
				return std::nullopt;
		}
		if (gap_end > lo && gap_end - lo >= len)
			return gap_end - len;
		return std::nullopt;
	};

	if (below_2g)	// MAP_32BIT: Linux's window is [1 GiB, 2 GiB)
		return search(0x40000000, 0x80000000);
	if (auto a = search(user_min, mmap_base()))
		return a;
	return search(mmap_base(), user_end);
}

KResult<void> Mm::ensure_phys(Vma& v)
{
	if (v.phys)
		return {};

	// Next to a neighbour's memory if possible, so that the two
	// mappings can become one.
	std::optional<std::uint64_t> at;
	auto next = vmas_.lower_bound(v.start);
	if (next != vmas_.begin()) {
		const Vma& prev = std::prev(next)->second;
		if (prev.end == v.start && prev.phys)
			at = *prev.phys + prev.len();
	}
	if (!at) {
		auto after = vmas_.find(v.end);
		if (after != vmas_.end() && after->second.phys &&
		    *after->second.phys >= v.len())
			at = *after->second.phys - v.len();
	}
	auto off = phys_.alloc(v.len(), at);
	if (!off)
		return kerr(off.error());
	v.phys = *off;
	return {};
}

KResult<void> Mm::insert(Vma v)
{
	if (v.anonymous() && v.prot) {
		auto r = ensure_phys(v);
		if (!r)
			return r;
	}
	std::uint64_t start = v.start, end = v.end;
	vmas_.emplace(start, std::move(v));
	auto r = sync(start, end);
	merge_around(start, end);
	return r;
}

// --- the address space ------------------------------------------------------

void Mm::host_ops(const Vma& v, std::uint64_t start, std::uint64_t end,
		  std::vector<unpriv::AsOp>& ops) const
{
	using unpriv::AsOp;
	using unpriv::Share;

	auto phys_map = [&](std::uint64_t s, std::uint64_t e) {
		ops.push_back(AsOp::map({.addr = s, .len = e - s, .fd = phys_.fd(),
					 .offset = *v.phys + (s - v.start),
					 .prot = to_prot(v.prot),
					 .share = Share::shared}));
	};

	if (v.anonymous()) {
		if (v.phys)
			phys_map(start, end);
		else
			ops.push_back(AsOp::unmap(start, end - start));
		return;
	}
	if (v.shared) {
		ops.push_back(AsOp::map({.addr = start, .len = end - start,
					 .fd = v.file->fd.get(),
					 .offset = v.file_off + (start - v.start),
					 .prot = to_prot(v.prot),
					 .share = Share::shared}));
		return;
	}
	// A private file mapping: runs of file pages, read-only, and of
	// copied pages, with the mapping's protection.
	for (std::uint64_t s = start; s < end;) {
		bool copied = v.is_copied(s);
		std::uint64_t e = s + page_size;
		while (e < end && v.is_copied(e) == copied)
			e += page_size;
		if (copied)
			phys_map(s, e);
		else
			ops.push_back(AsOp::map({.addr = s, .len = e - s,
						 .fd = v.file->fd.get(),
						 .offset = v.file_off + (s - v.start),
						 .prot = to_prot(v.prot & ~PROT_WRITE),
						 .share = Share::private_}));
		s = e;
	}
}

KResult<void> Mm::apply(Mirror& m, const std::vector<unpriv::AsOp>& ops)
{
	if (ops.empty())
		return {};
	stats_.backend_calls++;
	auto r = ops.size() == 1 && ops[0].kind == unpriv::AsOp::Kind::map
			 ? m.as.map(ops[0].m)
			 : m.as.batch(ops);
	if (r)
		return {};
	if (!failure_)
		failure_ = r.error();
	return kerr(ENOMEM);
}

// The change ops make: in the caller's mirror now; in the others, by
// the log, before they run again.
KResult<void> Mm::commit(const std::vector<unpriv::AsOp>& ops)
{
	if (ops.empty()) {
		reclaim();
		return {};
	}
	Mirror *m = own();
	if (m)
		catch_up(*m);
	auto r = m ? apply(*m, ops) : KResult<void>{};
	if (!shared_) {
		std::uint64_t start = UINT64_MAX, end = 0;
		for (const auto& op : ops) {
			start = std::min(start, op.m.addr);
			end = std::max(end, op.m.addr + op.m.len);
		}
		log_.push_back({++gen_, start, end});
		if (m)
			m->gen = gen_;
		for (auto& o : mirrors_)
			if (o.get() != m && o->running)
				(void)o->running->kick();
		trim_log();
	}
	reclaim();
	return r;
}

Mm::Mirror *Mm::own()
{
	if (shared_)
		return mirrors_.empty() ? nullptr : mirrors_.front().get();
	auto self = std::this_thread::get_id();
	for (auto& m : mirrors_)
		if (m->owner == self)
			return m.get();
	return nullptr;
}

void Mm::catch_up(Mirror& m)
{
	if (m.gen == gen_)
		return;
	std::vector<unpriv::AsOp> ops;
	if (log_.empty() || log_.front().gen > m.gen + 1) {
		// Behind what the log keeps: the whole list again.
		ops_for(user_min, top_, ops);
	} else {
		// The ranges changed since, merged: a range changed many
		// times (malloc's arenas, a thread's stack) is synced once.
		std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
		for (const auto& c : log_)
			if (c.gen > m.gen)
				ranges.emplace_back(c.start, c.end);
		std::sort(ranges.begin(), ranges.end());
		for (std::size_t i = 0; i < ranges.size();) {
			auto [start, end] = ranges[i];
			for (i++; i < ranges.size() && ranges[i].first <= end; i++)
				end = std::max(end, ranges[i].second);
			ops_for(start, end, ops);
		}
	}
	(void)apply(m, ops);
	m.gen = gen_;
	trim_log();
}

// The log keeps what the most behind mirror lacks, and a bounded number
// of changes: one further behind syncs the whole list.
void Mm::trim_log()
{
	std::uint64_t oldest = gen_;
	for (const auto& o : mirrors_)
		oldest = std::min(oldest, o->gen);
	while (!log_.empty() && (log_.front().gen <= oldest || log_.size() > 1024))
		log_.pop_front();
}

KResult<void> Mm::attach(unpriv::AddressSpace as)
{
	std::lock_guard lock(lock_);
	if (shared_)
		return {};
	auto m = std::make_unique<Mirror>(Mirror{std::move(as), std::this_thread::get_id()});
	// A new mirror is empty: only the mappings to make.
	std::vector<unpriv::AsOp> ops;
	for (const auto& [start, v] : vmas_)
		host_ops(v, v.start, v.end, ops);
	if (auto r = apply(*m, ops); !r)
		return r;
	m->gen = gen_;
	mirrors_.push_back(std::move(m));
	return {};
}

unpriv::AddressSpace& Mm::address_space()
{
	std::lock_guard lock(lock_);
	Mirror *m = own();
	assert(m);
	return m->as;
}

void Mm::detach()
{
	std::lock_guard lock(lock_);
	if (shared_)
		return;
	auto self = std::this_thread::get_id();
	std::erase_if(mirrors_, [&](const auto& m) { return m->owner == self; });
	trim_log();
	reclaim();
}

unpriv::AddressSpace *Mm::enter(unpriv::Vcpu& vcpu)
{
	std::lock_guard lock(lock_);
	Mirror *m = own();
	if (!m)
		return nullptr;
	catch_up(*m);
	if (!shared_)
		m->running = &vcpu;
	return &m->as;
}

void Mm::leave()
{
	std::lock_guard lock(lock_);
	if (shared_)
		return;
	if (Mirror *m = own())
		m->running = nullptr;
	reclaim();
}

void Mm::release_phys(std::uint64_t off, std::uint64_t len)
{
	// Tagged with the change about to be logged.
	deferred_.push_back({gen_ + 1, off, len});
}

void Mm::reclaim()
{
	if (deferred_.empty())
		return;
	// A mirror that runs may still reach what it has not caught up
	// with; one that does not catches up before it runs.
	std::uint64_t reached = gen_;
	if (!shared_)
		for (const auto& m : mirrors_)
			if (m->running)
				reached = std::min(reached, m->gen);
	std::erase_if(deferred_, [&](const Deferred& d) {
		if (d.gen > reached)
			return false;
		phys_.free(d.off, d.len);
		return true;
	});
}

KResult<void> Mm::sync(std::uint64_t start, std::uint64_t end)
{
	std::vector<unpriv::AsOp> ops;
	ops_for(start, end, ops);
	return commit(ops);
}

void Mm::ops_for(std::uint64_t start, std::uint64_t end, std::vector<unpriv::AsOp>& ops) const
{
	std::uint64_t cur = start;

	for (auto it = first_ending_after(start);
	     it != vmas_.end() && it->first < end; ++it) {
		const Vma& v = it->second;
		std::uint64_t s = std::max(v.start, start), e = std::min(v.end, end);
		if (cur < s)
			ops.push_back(unpriv::AsOp::unmap(cur, s - cur));
		host_ops(v, s, e, ops);
		cur = e;
	}
	if (cur < end)
		ops.push_back(unpriv::AsOp::unmap(cur, end - cur));
}

// --- the system calls -------------------------------------------------------

KResult<std::uint64_t> Mm::mmap(std::uint64_t addr, std::uint64_t len, int prot,
				int flags, std::shared_ptr<const MapFile> file,
				std::uint64_t off, std::string name)
{
	std::lock_guard lock(lock_);
	prot &= prot_rwx;
	if (len == 0)
		return kerr(EINVAL);
	std::uint64_t plen = page_up(len);
	if (plen < len)
		return kerr(ENOMEM);

	bool shared;
	switch (flags & MAP_TYPE) {
	case MAP_SHARED:
	case MAP_SHARED_VALIDATE:
		shared = true;
		break;
	case MAP_PRIVATE:
		shared = false;
		break;
	default:
		return kerr(EINVAL);
	}
	if (file) {
		if (!page_aligned(off))
			return kerr(EINVAL);
		if (off + plen < off)
			return kerr(EOVERFLOW);
		// As Linux's file_mmap_ok(): no page of a regular file lies
		// past MAX_LFS_FILESIZE (and the host's mmap would refuse it).
		constexpr std::uint64_t max_file_size = INT64_MAX;
		if (plen > max_file_size ||
		    off / page_size > (max_file_size - plen) / page_size)
			return kerr(EOVERFLOW);
		if (shared && (prot & PROT_WRITE) && !file->writable)
			return kerr(EACCES);
	}

	std::uint64_t start;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (!page_aligned(addr))
			return kerr(EINVAL);
		if (addr + plen > user_end || addr + plen < addr)
			return kerr(ENOMEM);
		if (addr < user_min)
			return kerr(EPERM);
		for (const auto& r : reserved_)
			if (r.start < addr + plen && addr < r.end)
				return kerr(ENOMEM);
		if ((flags & MAP_FIXED_NOREPLACE) && !is_free(addr, addr + plen))
			return kerr(EEXIST);
		start = addr;
	} else {
		auto a = find_free(plen, addr, flags & MAP_32BIT);
		if (!a)
			return kerr(ENOMEM);
		start = *a;
	}

	Vma v;
	v.start = start;
	v.end = start + plen;
	v.prot = prot;
	v.shared = shared;
	v.growsdown = flags & MAP_GROWSDOWN;
	v.name = file ? file->name : std::move(name);
	v.file_off = file ? off : 0;
	v.file = std::move(file);
	if (v.private_file())
		v.copied.assign(plen / page_size, false);

	remove(start, start + plen);
	auto r = insert(std::move(v));
	if (!r)
		return kerr(r.error());
	return start;
}

KResult<void> Mm::munmap(std::uint64_t addr, std::uint64_t len)
{
	std::lock_guard lock(lock_);
	std::uint64_t plen = page_up(len);

	if (!page_aligned(addr) || len == 0 || plen < len ||
	    addr + plen > user_end || addr + plen < addr)
		return kerr(EINVAL);
	for (const auto& r : reserved_)
		if (r.start < addr + plen && addr < r.end)
			return kerr(EINVAL);
	remove(addr, addr + plen);
	return sync(addr, addr + plen);
}

KResult<void> Mm::mprotect(std::uint64_t addr, std::uint64_t len, int prot)
{
	std::lock_guard lock(lock_);
	if (!page_aligned(addr) ||
	    (prot & ~(prot_rwx | prot_sem | PROT_GROWSDOWN | PROT_GROWSUP)) ||
	    (prot & PROT_GROWSDOWN && prot & PROT_GROWSUP))
		return kerr(EINVAL);
	prot &= prot_rwx;
	// As do_mprotect_pkey(): a length that rounds up past the end of
	// the address space (to 0) is ENOMEM, not nothing to do.
	if (!len)
		return {};
	std::uint64_t end = addr + page_up(len);
	if (end <= addr)
		return kerr(ENOMEM);

	split_at(addr);
	split_at(end);

	// As Linux: up to a hole (ENOMEM) or a mapping that cannot take the
	// protection (EACCES), the change is made.
	std::vector<unpriv::AsOp> ops;
	KResult<void> ret;
	std::uint64_t cur = addr;
	for (auto it = vmas_.lower_bound(addr); cur < end; ++it) {
		if (it == vmas_.end() || it->first != cur) {
			ret = kerr(ENOMEM);
			break;
		}
		Vma& v = it->second;
		if ((v.file && v.shared && (prot & PROT_WRITE) && !v.file->writable) ||
		    (v.kernel_pages && (prot & PROT_WRITE))) {
			ret = kerr(EACCES);
			break;
		}
		bool had_phys = v.phys.has_value();
		if (v.anonymous() && prot) {
			auto r = ensure_phys(v);
			if (!r) {
				ret = r;
				break;
			}
		}
		v.prot = prot;
		// Where the address space maps the same thing with another
		// protection, protect; where what is mapped changes, map.
		if ((v.anonymous() && had_phys) || (v.shared && v.file))
			ops.push_back(unpriv::AsOp::protect(v.start, v.len(),
							    to_prot(prot)));
		else
			host_ops(v, v.start, v.end, ops);
		cur = v.end;
	}
	auto r = commit(ops);
	merge_around(addr, cur);
	if (!r)
		return r;
	return ret;
}

KResult<std::uint64_t> Mm::map_kernel_pages(std::uint64_t addr, std::uint64_t len, int prot,
					    std::uint64_t phys, std::string name)
{
	std::lock_guard lock(lock_);
	auto start = mmap(addr, len, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | (addr ? MAP_FIXED : 0), nullptr, 0);
	if (!start)
		return start;
	remove(*start, *start + page_up(len));
	Vma v;
	v.start = *start;
	v.end = *start + page_up(len);
	v.prot = prot & prot_rwx & ~PROT_WRITE;
	v.phys = phys;
	v.kernel_pages = true;
	v.name = std::move(name);
	auto r = insert(std::move(v));
	if (!r)
		return kerr(r.error());
	return *start;
}

void Mm::set_brk(std::uint64_t start)
{
	std::lock_guard lock(lock_);
	brk_start_ = brk_ = start;
}

std::uint64_t Mm::brk(std::uint64_t addr)
{
	std::lock_guard lock(lock_);
	if (addr < brk_start_)
		return brk_;

	std::uint64_t old_end = page_up(brk_), new_end = page_up(addr);
	if (new_end < addr || new_end > user_end)
		return brk_;
	if (new_end < old_end) {
		if (!munmap(new_end, old_end - new_end))
			return brk_;
	} else if (new_end > old_end) {
		if (!is_free(old_end, new_end))
			return brk_;
		auto r = mmap(old_end, new_end - old_end, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, nullptr, 0,
			      "[heap]");
		if (!r)
			return brk_;
	}
	brk_ = addr;
	return brk_;
}

KResult<std::uint64_t> Mm::mremap(std::uint64_t old_addr, std::uint64_t old_len,
				  std::uint64_t new_len, int flags,
				  std::uint64_t new_addr)
{
	std::lock_guard lock(lock_);
	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) ||
	    ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) && !(flags & MREMAP_MAYMOVE)) ||
	    !page_aligned(old_addr))
		return kerr(EINVAL);
	std::uint64_t olen = page_up(old_len), nlen = page_up(new_len);
	if (olen < old_len || nlen < new_len)
		return kerr(ENOMEM);
	// old_len 0 duplicates a shared mapping: not supported.
	if (nlen == 0 || olen == 0)
		return kerr(EINVAL);
	if ((flags & MREMAP_DONTUNMAP) && olen != nlen)
		return kerr(EINVAL);
	if (old_addr + olen > user_end || old_addr + olen < old_addr)
		return kerr(EFAULT);

	// The old range must lie in one mapping.
	const Vma *cv = find(old_addr);
	if (!cv || cv->end < old_addr + olen)
		return kerr(EFAULT);
	if ((flags & MREMAP_DONTUNMAP) && (cv->file || cv->shared))
		return kerr(EINVAL);

	std::uint64_t dest;
	if (flags & MREMAP_FIXED) {
		if (!page_aligned(new_addr))
			return kerr(EINVAL);
		if (new_addr < old_addr + olen && old_addr < new_addr + nlen)
			return kerr(EINVAL);
		if (new_addr + nlen > user_end || new_addr + nlen < new_addr)
			return kerr(EINVAL);
		if (new_addr < user_min)
			return kerr(EPERM);
		for (const auto& r : reserved_)
			if (r.start < new_addr + nlen && new_addr < r.end)
				return kerr(EINVAL);
		dest = new_addr;
	} else if (nlen <= olen) {
		if (nlen < olen) {
			auto r = munmap(old_addr + nlen, olen - nlen);
			if (!r)
				return kerr(r.error());
		}
		return old_addr;
	} else if (cv->end == old_addr + olen &&
		   is_free(old_addr + olen, old_addr + nlen) &&
		   old_addr + nlen <= user_end) {
		dest = old_addr;	// grows in place
	} else if (flags & MREMAP_MAYMOVE) {
		auto a = find_free(nlen, 0, false);
		if (!a)
			return kerr(ENOMEM);
		dest = *a;
	} else {
		return kerr(ENOMEM);
	}

	// Take the old range's mapping out of the list, whole.
	split_at(old_addr);
	split_at(old_addr + olen);
	auto node = vmas_.extract(old_addr);
	Vma moved = std::move(node.mapped());
	Vma keep;	// MREMAP_DONTUNMAP: what stays at the old address
	if (flags & MREMAP_DONTUNMAP) {
		keep.start = moved.start;
		keep.end = moved.end;
		keep.prot = moved.prot;
		keep.name = moved.name;
	}
	std::uint64_t take = std::min(olen, nlen);
	if (take < olen) {
		// Shrinking while moving: the tail goes.
		if (moved.phys && !moved.kernel_pages)
			release_phys(*moved.phys + take, olen - take);
		if (!moved.copied.empty())
			moved.copied.resize(take / page_size);
	}

	if (dest != old_addr)
		remove(dest, dest + nlen);
	moved.start = dest;
	moved.end = dest + take;
	std::uint64_t grow_file_off = moved.file_off + take;
	Vma grown;
	if (nlen > take) {
		grown.start = dest + take;
		grown.end = dest + nlen;
		grown.prot = moved.prot;
		grown.shared = moved.shared;
		grown.growsdown = moved.growsdown;
		grown.file = moved.file;
		grown.file_off = moved.file ? grow_file_off : 0;
		grown.name = moved.name;
		if (grown.private_file())
			grown.copied.assign((nlen - take) / page_size, false);
	}
	vmas_.emplace(moved.start, std::move(moved));

	// insert() brings its own range in step; a move, both ranges.
	auto step = [](int err, const KResult<void>& r) { return err ? err : r ? 0 : r.error(); };
	int err = 0;
	if (dest != old_addr) {
		err = step(err, sync(old_addr, old_addr + olen));
		if (!err)
			err = step(err, sync(dest, dest + take));
	}
	if (!err && nlen > take)
		err = step(err, insert(std::move(grown)));
	if (!err && (flags & MREMAP_DONTUNMAP))
		err = step(err, insert(std::move(keep)));
	merge_around(dest, dest + nlen);
	if (err)
		return kerr(err);
	return dest;
}

KResult<void> Mm::madvise(std::uint64_t addr, std::uint64_t len, int advice)
{
	std::lock_guard lock(lock_);
	if (!page_aligned(addr))
		return kerr(EINVAL);
	// As do_madvise(): a length that rounds up to 0 is EINVAL.
	if (len && !page_up(len))
		return kerr(EINVAL);
	std::uint64_t end = addr + page_up(len);
	if (end < addr)
		return kerr(EINVAL);

	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_FREE:		// may keep the contents: keeping them is allowed
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
	case MADV_WIPEONFORK:
	case MADV_KEEPONFORK:
	case MADV_COLD:
	case MADV_PAGEOUT:
	case MADV_POPULATE_READ:
	case MADV_POPULATE_WRITE:
		// Hints about paging the guest port does not do.
		return is_mapped(addr, end) ? KResult<void>{} : kerr(ENOMEM);
	case MADV_DONTNEED:
	case MADV_REMOVE:
		break;
	default:
		return kerr(EINVAL);
	}
	if (end == addr)
		return {};

	split_at(addr);
	split_at(end);
	KResult<void> ret;
	std::vector<unpriv::AsOp> ops;
	std::uint64_t cur = addr;
	for (auto it = vmas_.lower_bound(addr); cur < end; ++it) {
		if (it == vmas_.end() || it->first != cur) {
			ret = kerr(ENOMEM);
			break;
		}
		Vma& v = it->second;
		cur = v.end;
		if (advice == MADV_REMOVE) {
			// Frees backing store: only for shared mappings.
			if (!v.shared) {
				ret = kerr(EINVAL);
				break;
			}
			if (v.anonymous() && v.phys)
				phys_.zero(*v.phys, v.len());
			else if (v.file) {
				auto r = host::fallocate(v.file->fd.get(),
							 FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
							 v.file_off, v.len());
				if (!r) {
					ret = kerr(r.error() == EOPNOTSUPP ? EOPNOTSUPP : EINVAL);
					break;
				}
			}
			continue;
		}
		// MADV_DONTNEED: private pages go; what remains is zeros
		// (anonymous) or the file again.  Shared pages stay, and so
		// do the vDSO's and its data's: every process maps the same
		// physical pages, and Linux gives its vDSO pages back as they
		// were at the next touch.
		if (v.kernel_pages)
			continue;
		if (v.anonymous() && !v.shared && v.phys) {
			phys_.zero(*v.phys, v.len());
		} else if (v.private_file() && v.phys) {
			phys_.zero(*v.phys, v.len());
			std::fill(v.copied.begin(), v.copied.end(), false);
			host_ops(v, v.start, v.end, ops);
		}
	}
	auto r = commit(ops);
	merge_around(addr, end);
	if (!r)
		return r;
	return ret;
}

KResult<void> Mm::msync(std::uint64_t addr, std::uint64_t len, int flags)
{
	std::lock_guard lock(lock_);
	if (!page_aligned(addr) || (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) ||
	    ((flags & MS_ASYNC) && (flags & MS_SYNC)))
		return kerr(EINVAL);
	std::uint64_t end = addr + page_up(len);
	if (end < addr)
		return kerr(ENOMEM);
	if (!is_mapped(addr, end))
		return kerr(ENOMEM);
	if (!(flags & MS_SYNC))
		return {};	// the page cache is shared: nothing to push
	for (auto it = first_ending_after(addr); it != vmas_.end() && it->first < end; ++it) {
		const Vma& v = it->second;
		if (v.file && v.shared && !host::sync_own(v.file->fd.get(), true))
			return kerr(EIO);
	}
	return {};
}

// --- copy on write and faults -----------------------------------------------

KResult<void> Mm::copy_pages(Vma& v, std::uint64_t start, std::uint64_t end)
{
	auto r = ensure_phys(v);
	if (!r)
		return r;

	std::uint64_t copied_end = start;
	for (std::uint64_t p = start; p < end; p += page_size) {
		if (v.is_copied(p)) {
			copied_end = p + page_size;
			continue;
		}
		std::byte *dst = phys_.host(*v.phys + (p - v.start));
		long n = pread_full(v.file->fd.get(), dst, page_size,
				    v.file_off + (p - v.start));
		if (n <= 0)
			break;	// beyond the end of the file: SIGBUS there
		std::memset(dst + n, 0, page_size - static_cast<std::size_t>(n));
		v.copied[(p - v.start) / page_size] = true;
		stats_.cow_pages++;
		copied_end = p + page_size;
	}
	if (copied_end > start) {
		auto s = sync(start, copied_end);
		if (!s)
			return s;
	}
	return copied_end == end ? KResult<void>{} : kerr(EFAULT);
}

std::optional<Mm::FaultSignal> Mm::handle_fault(std::uint64_t addr,
						std::uint64_t error_code,
						FaultSignal host)
{
	std::lock_guard lock(lock_);
	constexpr std::uint64_t pf_write = 1 << 1, pf_instr = 1 << 4;

	// A change another thread made, which this thread's mirror lacked:
	// in step now, the access is tried again if the list allows it.
	Mirror *m = own();
	bool behind = m && m->gen != gen_;
	if (m)
		catch_up(*m);

	auto it = first_ending_after(addr);
	if (it == vmas_.end() || it->first > addr)
		return FaultSignal{SIGSEGV, SEGV_MAPERR};
	Vma& v = it->second;
	bool write = error_code & pf_write, exec = error_code & pf_instr;
	if ((write && !(v.prot & PROT_WRITE)) || (exec && !(v.prot & PROT_EXEC)) ||
	    !readable(v.prot))
		return FaultSignal{SIGSEGV, SEGV_ACCERR};

	std::uint64_t page = page_down(addr);
	if (!(write && v.private_file() && !v.is_copied(page)))
		return behind ? std::nullopt : std::optional(host);	// else the host's reason

	// Copy on write, with the neighbours in an aligned window.
	constexpr std::uint64_t window = fault_around_pages * page_size;
	std::uint64_t s = std::max(v.start, addr & ~(window - 1));
	std::uint64_t e = std::min(v.end, s + window);
	stats_.cow_faults++;
	auto r = copy_pages(v, s, e);
	if (!r && v.is_copied(page))
		r = {};	// the window ran past the end of the file; page is in
	if (!r) {
		if (!failure_ && v.phys)
			return FaultSignal{SIGBUS, BUS_ADRERR};
		return FaultSignal{SIGSEGV, SEGV_MAPERR};
	}
	merge_around(s, e);
	return std::nullopt;
}

KResult<FutexKey> Mm::futex_key(std::uint64_t addr, bool private_flag)
{
	std::lock_guard lock(lock_);
	if (addr % sizeof(std::uint32_t))
		return kerr(EINVAL);
	auto it = first_ending_after(addr);
	if (it == vmas_.end() || it->first > addr || !readable(it->second.prot))
		return kerr(EFAULT);
	const Vma& v = it->second;
	if (private_flag || !v.shared)
		return FutexKey{FutexKey::Kind::mm, reinterpret_cast<std::uintptr_t>(this), 0, addr};
	if (v.anonymous()) {
		if (!v.phys)
			return kerr(EFAULT);
		return FutexKey{FutexKey::Kind::phys, 0, 0, *v.phys + (addr - v.start)};
	}
	auto st = host::fstat(v.file->fd.get());
	if (!st)
		return kerr(EFAULT);
	return FutexKey{FutexKey::Kind::file, st->st_dev, st->st_ino, v.file_off + (addr - v.start)};
}

// --- the guest port's access ------------------------------------------------

template <class Fn>
KResult<void> Mm::for_each_piece(std::uint64_t addr, std::size_t len, bool write,
				 bool force, Fn&& fn)
{
	if (len == 0)
		return {};
	std::uint64_t end = addr + len;
	if (end < addr || end > user_end)
		return kerr(EFAULT);

	std::uint64_t cur = addr;
	for (auto it = first_ending_after(addr); cur < end; ++it) {
		if (it == vmas_.end() || it->first > cur)
			return kerr(EFAULT);
		Vma& v = it->second;
		if (!force && (write ? !(v.prot & PROT_WRITE) : !readable(v.prot)))
			return kerr(EFAULT);
		std::uint64_t e = std::min(end, v.end);
		auto r = fn(v, cur, e);
		if (!r)
			return r;
		cur = e;
	}
	return {};
}

KResult<void> Mm::read(std::uint64_t addr, std::span<std::byte> buf)
{
	std::lock_guard lock(lock_);
	return for_each_piece(addr, buf.size(), false, false,
			      [&](Vma& v, std::uint64_t s, std::uint64_t e) -> KResult<void> {
		std::byte *dst = buf.data() + (s - addr);
		if (v.anonymous()) {
			if (v.phys)
				std::memcpy(dst, phys_.host(*v.phys + (s - v.start)), e - s);
			else
				std::memset(dst, 0, e - s);
			return {};
		}
		for (std::uint64_t p = s; p < e;) {
			std::uint64_t q = std::min(e, page_down(p) + page_size);
			if (v.private_file()) {
				while (q < e && v.is_copied(q) == v.is_copied(p))
					q = std::min(e, q + page_size);
			} else {
				q = e;
			}
			std::byte *d = dst + (p - s);
			if (v.private_file() && v.is_copied(p)) {
				std::memcpy(d, phys_.host(*v.phys + (p - v.start)), q - p);
			} else {
				long n = pread_full(v.file->fd.get(), d, q - p,
						    v.file_off + (p - v.start));
				if (n < 0 || static_cast<std::uint64_t>(n) < q - p) {
					// Within the file's last page: zeros,
					// as the mapping shows them; beyond: none.
					std::uint64_t got = p + static_cast<std::uint64_t>(std::max(n, 0L));
					if (n < 0 || page_up(got) < q)
						return kerr(EFAULT);
					std::memset(d + (got - p), 0, q - got);
				}
			}
			p = q;
		}
		return {};
	});
}

KResult<void> Mm::write(std::uint64_t addr, std::span<const std::byte> buf,
			bool force)
{
	std::lock_guard lock(lock_);
	return for_each_piece(addr, buf.size(), true, force,
			      [&](Vma& v, std::uint64_t s, std::uint64_t e) -> KResult<void> {
		const std::byte *src = buf.data() + (s - addr);
		if (v.anonymous()) {
			if (!v.phys) {
				auto r = ensure_phys(v);
				if (!r)
					return r;
				r = sync(v.start, v.end);
				if (!r)
					return r;
			}
			std::memcpy(phys_.host(*v.phys + (s - v.start)), src, e - s);
			return {};
		}
		if (v.shared) {
			auto st = host::fstat(v.file->fd.get());
			std::uint64_t off = v.file_off + (s - v.start);
			if (!st || off + (e - s) > static_cast<std::uint64_t>(st->st_size))
				return kerr(EFAULT);
			if (!host::pwrite_full(v.file->fd.get(), std::span(src, e - s), off))
				return kerr(EFAULT);
			return {};
		}
		auto r = copy_pages(v, page_down(s), page_up(e));
		if (!r)
			return r;
		std::memcpy(phys_.host(*v.phys + (s - v.start)), src, e - s);
		return {};
	});
}

KResult<void> Mm::check(std::uint64_t addr, std::size_t len, bool write)
{
	std::lock_guard lock(lock_);
	return for_each_piece(addr, len, write, false,
			      [](Vma&, std::uint64_t, std::uint64_t) -> KResult<void> { return {}; });
}

PhysPin Mm::pin(std::uint64_t addr, std::size_t len, bool write)
{
	std::lock_guard lock(lock_);
	auto it = first_ending_after(addr);
	if (len == 0 || it == vmas_.end() || it->first > addr)
		return {};
	const Vma& v = it->second;
	if (!v.anonymous() || !v.phys || addr + len > v.end || addr + len < addr ||
	    (write ? !(v.prot & PROT_WRITE) : !readable(v.prot)))
		return {};
	return phys_.pin(*v.phys + (addr - v.start), len);
}

KResult<std::string> Mm::read_string(std::uint64_t addr, std::size_t max)
{
	std::lock_guard lock(lock_);
	std::string s;
	std::byte chunk[256];

	for (;;) {
		std::size_t n = std::min<std::uint64_t>(
			sizeof(chunk), page_down(addr) + page_size - addr);
		auto r = read(addr, std::span(chunk, n));
		if (!r)
			return kerr(r.error());
		const char *c = reinterpret_cast<const char *>(chunk);
		const char *nul = static_cast<const char *>(std::memchr(c, 0, n));
		s.append(c, nul ? static_cast<std::size_t>(nul - c) : n);
		if (s.size() > max)
			return kerr(ENAMETOOLONG);
		if (nul)
			return s;
		addr += n;
	}
}

std::uint64_t Mm::size() const
{
	std::lock_guard lock(lock_);
	std::uint64_t total = 0;
	for (const auto& [start, v] : vmas_)
		total += v.len();
	return total;
}

std::string Mm::maps() const
{
	std::lock_guard lock(lock_);
	std::string out;
	char line[256];

	for (const auto& [start, v] : vmas_) {
		unsigned major = 0, minor = 0;
		unsigned long ino = 0;
		if (auto st = v.file ? host::fstat(v.file->fd.get()) : kerr(EBADF)) {
			major = ::major(st->st_dev);
			minor = ::minor(st->st_dev);
			ino = st->st_ino;
		}
		int n = std::snprintf(line, sizeof(line),
				      "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ",
				      v.start, v.end,
				      v.prot & PROT_READ ? 'r' : '-',
				      v.prot & PROT_WRITE ? 'w' : '-',
				      v.prot & PROT_EXEC ? 'x' : '-',
				      v.shared ? 's' : 'p',
				      v.file ? v.file_off : 0, major, minor, ino);
		out.append(line, static_cast<std::size_t>(n));
		if (!v.name.empty()) {
			out.append(static_cast<std::size_t>(std::max(0, 73 - n)), ' ');
			out += v.name;
		}
		out += '\n';
	}
	return out;
}

} // namespace guest
