// SPDX-License-Identifier: MIT
//
// malloc and friends over the compartment's heap: first fit from a free
// list kept in address order, split on allocation, coalesced on free,
// grown with unpriv_sbrk() in steps of at least 64 KiB.  One thread, as
// a compartment has.
#include <stdlib.h>
#include <string.h>

#include <unpriv/compartment/runtime.h>

#define ALIGN		16
#define HEADER		sizeof(struct chunk)
#define MIN_CHUNK	(2 * HEADER)
#define GROW_STEP	(64 << 10)

// A chunk: this header, then the caller's bytes.  A free chunk keeps the
// next free chunk's address where the caller's bytes would be.
struct chunk {
	size_t size;	// with the header, a multiple of ALIGN
	size_t used;
};

static struct chunk *free_list;	// in address order

static struct chunk **next_of(struct chunk *c)
{
	return (struct chunk **)(c + 1);
}

static char *end_of(struct chunk *c)
{
	return (char *)c + c->size;
}

// Put c on the free list, merging it with free neighbours.
static void release(struct chunk *c)
{
	struct chunk *prev = NULL, *next = free_list;

	c->used = 0;
	while (next && next < c) {
		prev = next;
		next = *next_of(next);
	}
	if (next && end_of(c) == (char *)next) {
		c->size += next->size;
		next = *next_of(next);
	}
	*next_of(c) = next;
	if (prev && end_of(prev) == (char *)c) {
		prev->size += c->size;
		*next_of(prev) = next;
	} else if (prev) {
		*next_of(prev) = c;
	} else {
		free_list = c;
	}
}

static int grow(size_t need)
{
	size_t step = need < GROW_STEP ? GROW_STEP : need;
	struct chunk *c = unpriv_sbrk((intptr_t)step);

	if (c == (void *)-1)
		return 0;
	c->size = step;
	release(c);
	return 1;
}

static void *take(size_t need)
{
	struct chunk **link = &free_list;

	for (struct chunk *c = free_list; c; link = next_of(c), c = *link) {
		if (c->size < need)
			continue;
		if (c->size - need >= MIN_CHUNK) {
			struct chunk *rest = (struct chunk *)((char *)c + need);

			rest->size = c->size - need;
			rest->used = 0;
			*next_of(rest) = *next_of(c);
			*link = rest;
			c->size = need;
		} else {
			*link = *next_of(c);
		}
		c->used = 1;
		return c + 1;
	}
	return NULL;
}

void *malloc(size_t n)
{
	size_t need;
	void *p;

	if (n > SIZE_MAX / 2)
		return NULL;
	need = (n + HEADER + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (need < MIN_CHUNK)
		need = MIN_CHUNK;
	p = take(need);
	if (!p && grow(need))
		p = take(need);
	return p;
}

void free(void *p)
{
	if (p)
		release((struct chunk *)p - 1);
}

void *calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *realloc(void *p, size_t n)
{
	size_t have;
	void *q;

	if (!p)
		return malloc(n);
	have = ((struct chunk *)p - 1)->size - HEADER;
	if (n <= have)
		return p;
	q = malloc(n);
	if (q) {
		memcpy(q, p, have);
		free(p);
	}
	return q;
}
